// pgcrisis serve: the pages that are tables (statements, jobs, cached views, errors), each
// filled from its JSON endpoint over the page's range.
"use strict";

import { drawChart, el } from "./charts.js";
import { stamp } from "./time.js";

const num = (v, digits) => v === null || v === undefined ? "–" :
  Number(v).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });

function row(cells) {
  const tr = el("tr");
  for (const [text, cls] of cells) tr.append(el("td", cls ? { "class": cls } : {}, text));
  return tr;
}

function fill(table, rows, empty) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  if (!rows.length) body.append(row([[empty, "empty"]]));
}

const trend = (now, before) => before === null || now === null ? "" :
  now > before * 1.2 ? "up" : now < before / 1.2 ? "down" : "";

export async function statements(getJSON, query) {
  const data = await getJSON("/api/statements", query());
  fill(document.getElementById("statements"), data.statements.map((s) => row([
    [s.query, "query"], [num(s.calls, 0), "num"],
    [num(s.calls_per_s, 2), "num " + trend(s.calls_per_s, s.prev_calls_per_s)],
    [num(s.prev_calls_per_s, 2), "num"],
    [num(s.mean_ms, 2), "num " + trend(s.mean_ms, s.prev_mean_ms)],
    [num(s.prev_mean_ms, 2), "num"], [num(s.total_ms, 0), "num"]])),
    "No statement ran in this range (or pg_stat_statements was not read).");
}

export async function jobs(getJSON, query) {
  const data = await getJSON("/api/jobs", query());
  fill(document.getElementById("jobs"), data.jobs.map((j) => row([
    [j.name + " — " + j.command, "query"], [j.schedule], [num(j.runs_in_window, 0), "num"],
    [num(j.runs, 0), "num"], [num(j.failed, 0), "num" + (j.failed ? " up" : "")],
    [num(j.did_nothing, 0), "num"], [num(j.mean_s, 2), "num"], [num(j.max_s, 2), "num"],
    [(j.last_status || "–") + (j.last_error ? ": " + j.last_error : "")]])),
    "No pg_cron job was recorded.");
}

export async function views(getJSON, query) {
  const data = await getJSON("/api/views", query());
  const byName = new Map(data.nodes.map((n) => [n.name, n]));
  const reads = new Map();
  const readBy = new Set();
  for (const e of data.edges) {
    if (!reads.has(e.view)) reads.set(e.view, []);
    reads.get(e.view).push(e.reads);
    readBy.add(e.reads);
  }
  const label = (n) => {
    const runs = n.refreshes || [];
    const longest = runs.reduce((m, r) => Math.max(m, r.seconds), 0);
    return n.name + (n.kind === "m" ? " (materialized)" : n.kind === "v" ? " (view)" : "") +
      (runs.length ? " — " + runs.length + " refresh(es), longest " + longest + " s" : "");
  };
  const branch = (name, seen) => {
    const li = el("li", { "data-view": name }, label(byName.get(name) || { name: name }));
    const kids = (reads.get(name) || []).filter((k) => !seen.has(k));
    if (kids.length) {
      const ul = el("ul", { "class": "tree" });
      for (const k of kids) ul.append(branch(k, new Set([...seen, k])));
      li.append(ul);
    }
    return li;
  };
  const tree = el("ul", { "class": "tree" });
  for (const n of data.nodes) if (!readBy.has(n.name)) tree.append(branch(n.name, new Set([n.name])));
  document.getElementById("tree").replaceChildren(
    data.nodes.length ? tree : el("p", { "class": "empty" }, "No cached view was recorded."));
  const runs = [];
  for (const n of data.nodes) for (const r of n.refreshes) runs.push([n.name, r]);
  runs.sort((a, b) => a[1].started.localeCompare(b[1].started));
  const t = el("table", {}, "");
  t.append(el("tbody"));
  fill(t, runs.map(([n, r]) => row([[n], [stamp(Date.parse(r.started))], [num(r.seconds) + " s", "num"],
                                    ["pid " + r.pid]])),
       "No refresh seen since " + stamp(Date.parse(data.walked_from)) + ".");
  document.getElementById("refreshes").replaceChildren(t);
  const heat = data.heatmap, cell = 18, left = 90;
  const top = Math.max(1, ...heat.hours.flat());
  const svg = el("svg:svg", { "class": "heat", width: left + 24 * cell,
                              height: 20 + heat.days.length * cell });
  for (let h = 0; h < 24; h += 3) svg.append(el("svg:text", { x: left + h * cell, y: 12, "class": "axis" }, String(h).padStart(2, "0")));
  heat.days.forEach((d, i) => {
    svg.append(el("svg:text", { x: 0, y: 20 + i * cell + 13, "class": "axis" }, d));
    heat.hours[i].forEach((v, h) => {
      const r = el("svg:rect", { x: left + h * cell, y: 20 + i * cell, width: cell, height: cell,
                                 fill: v ? `rgba(217,119,6,${0.15 + 0.85 * v / top})` : "#f3f4f6" });
      r.append(el("svg:title", {}, d + " " + h + ":00 — " + v + " refresh-minute(s)"));
      svg.append(r);
    });
  });
  const box = document.getElementById("heatmap");
  box.replaceChildren(heat.days.length ? svg : el("p", { "class": "empty" }, "No refresh recorded."),
                      el("p", { "class": "empty" }, "hours in " + heat.zone +
                         "; each cell: minutes × refreshes running"));
}

// the log's pages are filtered by ?sqlstate=, ?role=... in the address (a click on a group)
const FILTERS = ["sqlstate", "statement", "tag", "application", "role", "database"];

function filters() {
  const params = new URLSearchParams(location.search), out = {};
  for (const kind of FILTERS) if (params.has(kind)) out[kind] = params.get(kind);
  return out;
}

function refilter(kind, value) {
  const params = new URLSearchParams(location.search);
  if (value === null) params.delete(kind); else params.set(kind, value);
  location.search = params.toString();
}

function showFilters() {
  const box = document.getElementById("log-filters");
  const shown = Object.entries(filters());
  box.replaceChildren(...shown.map(([kind, value]) => {
    const b = el("button", { type: "button", "data-filter": kind },
                 kind + " = " + (value || "(none)") + " ×");
    b.addEventListener("click", () => refilter(kind, null));
    return b;
  }));
  box.hidden = !shown.length;
}

export async function errors(getJSON, query) {
  showFilters();
  const box = document.getElementById("error-chart");
  const width = Math.max(200, Math.floor(box.clientWidth || 800));
  const data = await getJSON("/api/errors", query(Object.assign({ width: width }, filters())));
  box.replaceChildren();
  const [from, to] = [Date.parse(data.from), Date.parse(data.to)];
  drawChart(box, { key: "errors", title: "errors per minute", unit: "/min",
                   lines: data.series }, from, to, width, 0);
  document.getElementById("error-total").textContent =
    data.total + " error(s) in this range, from the server's log";
  for (const kind of ["tag", "sqlstate", "statement", "application", "role", "database"]) {
    fill(document.getElementById("errors-" + kind), data[kind].map((g) => {
      const tr = row([[g.key.filter(Boolean).join(" · "), kind === "statement" ? "query" : ""],
                      [num(g.count, 0), "num count"], [g.sqlstate], [g.sample, "query"]]);
      tr.dataset.key = g.key[0];
      tr.classList.add("pick");
      tr.addEventListener("click", () => refilter(kind, g.value));
      return tr;
    }), "No error in this range (is record following the log with --log?).");
  }
  document.body.dataset.ready = "errors";
}

function planCell(g) {
  const td = el("td", { "class": "plan" });
  if (!g.plan) { td.textContent = "–"; return td; }
  const details = el("details", {});
  details.append(el("summary", {}, "plan"), el("pre", { "class": "plan" }, g.plan));
  td.append(details);
  return td;
}

function slowRow(label, cls, g) {
  const tr = row([[label, cls], [num(g.count, 0), "num"], [num(g.total_ms, 0), "num"],
                  [num(g.p95_ms, 1), "num"], [num(g.max_ms, 1), "num"]]);
  tr.append(planCell(g));
  return tr;
}

export async function slow(getJSON, query) {
  showFilters();
  const box = document.getElementById("slow-chart");
  const width = Math.max(200, Math.floor(box.clientWidth || 800));
  const data = await getJSON("/api/slow", query(Object.assign({ width: width }, filters())));
  box.replaceChildren();
  const [from, to] = [Date.parse(data.from), Date.parse(data.to)];
  drawChart(box, { key: "slow", title: "slow statement time per minute", unit: "ms",
                   lines: data.series }, from, to, width, 0);
  document.getElementById("slow-total").textContent = data.count +
    " slow statement(s) in this range, " + num(data.total_ms / 1000, 1) + " s in all";
  const empty = "No slow statement in this range (is log_min_duration_statement set, and " +
    "record following the log with --log?).";
  fill(document.getElementById("slow-views"), data.views.map((g) => {
    const tr = slowRow(g.label, "", g);
    tr.dataset.key = g.label;
    return tr;
  }), empty);
  fill(document.getElementById("slow-statements"), data.statements.map((g) => {
    const tr = slowRow(g.statement + (g.tag ? "  /* " + g.tag + " */" : ""), "query", g);
    tr.dataset.key = g.statement;
    return tr;
  }), empty);
  document.body.dataset.ready = "slow";
}
