// pgcrisis serve: plain JavaScript modules, inline SVG charts, nothing from another host.
// Each page asks the JSON endpoints of this server for its figures and draws them.
"use strict";

import { drawChart, drawStack, el } from "./charts.js";
import { errors, jobs, slow, statements, views } from "./tables.js";
import { span, stamp, zoneName } from "./time.js";

const page = document.body.dataset.page;
const SPANS = { "15m": 9e5, "1h": 36e5, "6h": 216e5, "24h": 864e5, "7d": 6048e5 };
const DEFAULT_SPAN = SPANS["1h"];

// -- the range: ?from=&to= in the address, a ?span= before the recording's end, else the
// recording's last hour, or the whole recording when it is shorter ----------------------
const params = new URLSearchParams(location.search);
const state = { from: params.get("from"), to: params.get("to"), span: params.get("span"),
                coverage: null, writing: null };
const follows = () => !state.to;  // the range ends with the recording, wherever that is

async function getJSON(path, query) {
  const url = path + "?" + new URLSearchParams(query).toString();
  const response = await fetch(url, { credentials: "same-origin" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function range() {
  // [from, to] in ms
  let to = state.to ? Date.parse(state.to) : null;
  let from = state.from ? Date.parse(state.from) : null;
  const cov = state.coverage;
  if (to === null) to = cov ? Date.parse(cov.to) + 1000 : Date.now();
  if (from === null) {
    const start = cov ? Date.parse(cov.from) : null;
    if (state.span === "all" && start !== null) from = start;
    else if (SPANS[state.span]) from = to - SPANS[state.span];
    else from = start !== null && to - start < DEFAULT_SPAN ? start : to - DEFAULT_SPAN;
  }
  return [from, to];
}

function query(extra) {
  const [from, to] = range();
  return Object.assign({ from: new Date(from).toISOString(), to: new Date(to).toISOString() },
                       extra || {});
}

function go(from, to) {
  const q = new URLSearchParams({ from: new Date(from).toISOString(),
                                  to: new Date(to).toISOString() });
  location.search = q.toString();
}

async function recording() {
  // what the store says of this page's recording: its extent, and whether it is written now
  const recs = await getJSON("/api/recordings", {});
  const me = recs.recordings.find((r) => r.name === document.body.dataset.recording);
  state.coverage = me && me.from ? { from: me.from, to: me.to } : null;
  state.writing = me ? me.writing : null;
}

function showLive() {
  // "live" only while a recorder writes the recording (the store says so), never because
  // the page follows the recording's end
  const w = state.writing, live = document.getElementById("live");
  live.hidden = !(w && w.live);
  live.textContent = w && w.live && w.stale && w.last_sample
    ? "live · no sample since " + stamp(Date.parse(w.last_sample)) : "live";
  document.body.dataset.live = w && w.live ? "yes" : "no";
}

let buttons = false;

function setupRange() {
  for (const b of document.querySelectorAll("#range button[data-span]")) {
    b.classList.toggle("here", b.dataset.span === state.span);
    if (!buttons) b.addEventListener("click", () => {
      location.search = new URLSearchParams({ span: b.dataset.span }).toString();
    });
  }
  buttons = true;
  const [from, to] = range();
  const whole = state.coverage && !state.span && !state.from && !state.to &&
    from === Date.parse(state.coverage.from);
  document.getElementById("shown-range").textContent = span(from, to) +
    (whole ? " (the whole recording)" : "");
  document.getElementById("zone").textContent = "times in " + zoneName();
  showLive();
  for (const a of document.querySelectorAll("nav a[data-nav]")) {
    a.href = "/" + a.dataset.nav + location.search;
  }
}

function renderFindings(target, title, report) {
  target.replaceChildren(el("h2", {}, title));
  if (!report.findings.length) {
    target.append(el("p", { "class": "empty" }, "No finding: nothing wrong was seen."));
  }
  for (const f of report.findings) {
    const art = el("article", { "class": "finding " + f.severity, "data-code": f.code });
    const h = el("h4", {}, f.title);
    h.append(el("span", { "class": "code" }, f.code + " · " + f.severity));
    art.append(h, el("p", {}, f.detail));
    if (f.objects.length) {
      const ul = el("ul", { "class": "objects" });
      for (const o of f.objects) {
        const li = el("li", {}, Object.entries(o).map(([k, v]) => k + " " + v).join(", "));
        if (o.pid !== undefined) li.dataset.pid = String(o.pid);
        ul.append(li);
      }
      art.append(ul);
    }
    if (Object.keys(f.evidence).length) {
      const d = el("details", {});
      d.append(el("summary", {}, "evidence"), el("pre", {}, JSON.stringify(f.evidence, null, 2)));
      art.append(d);
    }
    if (f.remedy) {
      art.append(el("p", {}, "Remedy: " + f.remedy.summary));
      if (f.remedy.sql.length) art.append(el("pre", { "class": "sql" }, f.remedy.sql.join("\n")));
    }
    target.append(art);
  }
  for (const s of report.skipped || []) {
    target.append(el("p", { "class": "empty" }, "skipped " + s.check + ": " + s.reason));
  }
}

// a click judges its moment, a drag its window; every chart shows the same selection
function interact(svgs, data, from, to, width) {
  const triage = document.getElementById("triage");
  const tools = document.getElementById("selection-tools");
  const timeAt = (x) => from + (to - from) * Math.max(0, Math.min(x, width)) / width;
  let start = null, selected = null;
  const xOf = (ev, svg) => (ev.clientX - svg.getBoundingClientRect().left) *
                           width / svg.getBoundingClientRect().width;
  const each = (cls, set) => { for (const s of svgs) set(s.querySelector(cls)); };
  const paint = (a, b) => each(".selection", (r) => {
    r.setAttribute("x", Math.min(a, b)); r.setAttribute("width", Math.abs(b - a));
    r.setAttribute("visibility", "visible");
  });
  const judge = async (path, q, title) => {
    try {
      renderFindings(triage, title, await getJSON(path, q));
    } catch (e) { triage.replaceChildren(el("p", { "class": "empty" }, e.message)); }
  };
  for (const svg of svgs) {
    svg.addEventListener("mousedown", (ev) => { start = xOf(ev, svg); ev.preventDefault(); });
    svg.addEventListener("mousemove", (ev) => {
      const x = xOf(ev, svg);
      if (start !== null && Math.abs(x - start) > 3) paint(start, x);
    });
    svg.addEventListener("mouseup", async (ev) => {
      if (start === null) return;
      const x = xOf(ev, svg), a = start;
      start = null;
      if (Math.abs(x - a) <= 3) {
        each(".cursor", (c) => {
          c.setAttribute("x1", x); c.setAttribute("x2", x); c.setAttribute("visibility", "visible");
        });
        // a click stands for its pixel column: a flagged sample in it is judged. A bucket
        // drawn in the column starts in it and holds samples for one step after that.
        const at = timeAt(Math.floor(x));
        const within = Math.ceil((to - from) / width) + (data.step_ms || 0);
        triage.replaceChildren(el("p", { "class": "empty" }, "judging " + stamp(at) + "…"));
        await judge("/api/triage", { at: new Date(at).toISOString(), within_ms: within },
                    "Triage at " + stamp(at));
        return;
      }
      paint(a, x);
      selected = [timeAt(Math.min(a, x)), timeAt(Math.max(a, x))];
      tools.hidden = false;
      document.body.dataset.selection = new Date(selected[0]).toISOString() + "/" +
                                        new Date(selected[1]).toISOString();
      triage.replaceChildren(el("p", { "class": "empty" }, "judging the window…"));
      await judge("/api/window", { from: new Date(selected[0]).toISOString(),
                                   to: new Date(selected[1]).toISOString() },
                  "Window " + span(selected[0], selected[1]));
    });
  }
  document.getElementById("zoom").onclick = () => { if (selected) go(selected[0], selected[1]); };
}

async function timeline() {
  const box = document.getElementById("charts");
  const width = Math.max(200, Math.floor(box.clientWidth || 800));
  let data;
  try {
    data = await getJSON("/api/timeline", query({ width: width }));
  } catch (e) {
    box.replaceChildren(el("p", { "class": "empty" }, e.message));
    return;
  }
  box.replaceChildren();
  const [from, to] = range();
  const stepCols = (data.step_ms || 0) * width / (to - from);
  const svgs = data.charts.map((c) => (c.kind === "stack" ? drawStack : drawChart)(
    box, c, from, to, width, stepCols));
  if (!data.minutes) box.prepend(el("p", { "class": "empty" }, "No sample in this range."));
  interact(svgs, data, from, to, width);
  document.body.dataset.ready = "timeline";
}

async function main() {
  try { await recording(); } catch (e) { /* drawn as empty below */ }
  setupRange();
  const pages = { timeline, statements: () => statements(getJSON, query),
                  jobs: () => jobs(getJSON, query), views: () => views(getJSON, query),
                  errors: () => errors(getJSON, query), slow: () => slow(getJSON, query) };
  try { await pages[page](); } catch (e) {
    document.getElementById("main").append(el("p", { "class": "empty" }, e.message));
  }
  if (!document.body.dataset.ready) document.body.dataset.ready = page;
}

main();
// every 5 s: is the recording still written? While the range follows the recording's end,
// the timeline is drawn again when a new sample came (not while a selection is looked at)
setInterval(async () => {
  const before = state.coverage ? state.coverage.to : null;
  try { await recording(); } catch (e) { return; /* the next poll tries again */ }
  showLive();
  if (!follows() || page !== "timeline" || !state.coverage || state.coverage.to === before) return;
  if (document.body.dataset.selection || document.querySelector(".finding, #triage h2")) return;
  setupRange();
  await timeline();
}, 5000);
