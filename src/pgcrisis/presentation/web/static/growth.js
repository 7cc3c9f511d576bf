// pgcrisis serve: the Growth page. A chart per figure of the recording's days (a column per
// day), with the forecast's median and interval and the limit, drawn by the timeline's own
// chart code; or, where the store keeps no daily rollups yet, what is missing.
"use strict";

import { drawChart, el } from "./charts.js";

export async function growth(getJSON) {
  const data = await getJSON("/api/growth", {});
  const box = document.getElementById("growth-charts");
  const note = document.getElementById("growth-note");
  note.hidden = !data.note;
  note.textContent = data.note ? "Growth " + data.note + "." : "";
  document.getElementById("growth-first").textContent = data.first
    ? "Runs out first: " + data.first : data.days ? data.days + " days recorded." : "";
  box.replaceChildren();
  for (const chart of data.charts) {
    drawChart(box, chart, chart.from, chart.to, chart.width, 1);
    if (chart.exhaustion) {
      box.lastChild.append(el("p", { "class": "exhaustion" }, "runs out: " + chart.exhaustion));
    }
  }
  if (!data.charts.length && !data.note) {
    box.append(el("p", { "class": "empty" }, "No day rolled up yet."));
  }
  const needs = document.getElementById("growth-needs");
  needs.replaceChildren(...data.needs.concat(data.notes).map((n) => el("li", {}, n)));
  document.body.dataset.ready = "growth";
}
