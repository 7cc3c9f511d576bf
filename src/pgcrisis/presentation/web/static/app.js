// pgcrisis serve: plain JavaScript, inline SVG charts, nothing from another host.
// Each page asks the JSON endpoints of this server for its figures and draws them.
"use strict";
(function () {
  const page = document.body.dataset.page;
  const SVGNS = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f6feb", "#d97706", "#94a3b8", "#7c3aed", "#059669", "#dc2626"];
  const SPANS = { "15m": 9e5, "1h": 36e5, "6h": 216e5, "24h": 864e5, "7d": 6048e5 };
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const fmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  const fmtShort = new Intl.DateTimeFormat(undefined, { month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit" });
  const shown = (ms) => fmt.format(new Date(ms));

  // -- the range: ?from=&to= in the address, else the recording's last hour (live) --------
  const params = new URLSearchParams(location.search);
  const state = { from: params.get("from"), to: params.get("to"), span: params.get("span") || "1h",
                  coverage: null };
  const live = () => !state.to;

  function el(tag, attrs, text) {
    const e = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4))
                                     : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function getJSON(path, query) {
    const url = path + "?" + new URLSearchParams(query).toString();
    const response = await fetch(url, { credentials: "same-origin" });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function range() {
    // [from, to] in ms; live: the span before the recording's last sample
    let to = state.to ? Date.parse(state.to) : null;
    let from = state.from ? Date.parse(state.from) : null;
    const cov = state.coverage;
    if (to === null) to = cov ? Date.parse(cov.to) + 1000 : Date.now();
    if (from === null) {
      if (state.span === "all" && cov) from = Date.parse(cov.from);
      else from = to - (SPANS[state.span] || SPANS["1h"]);
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

  function setupRange() {
    for (const b of document.querySelectorAll("#range button[data-span]")) {
      b.addEventListener("click", () => {
        location.search = new URLSearchParams({ span: b.dataset.span }).toString();
      });
    }
    const [from, to] = range();
    document.getElementById("shown-range").textContent =
      shown(from) + " – " + shown(to) + " (" + zone + ")";
    document.getElementById("live").hidden = !live();
    for (const a of document.querySelectorAll("nav a[data-nav]")) {
      a.href = "/" + a.dataset.nav + location.search;
    }
  }

  // -- charts ------------------------------------------------------------------------------
  const H = 90, PAD = 16;

  function drawChart(box, chart, columns, width, stepCols) {
    const svg = el("svg:svg", { viewBox: `0 0 ${width} ${H}`, width: width, height: H,
                                "data-key": chart.key, preserveAspectRatio: "none" });
    let top = 0, peak = null, peakX = null;
    for (const line of chart.lines) {
      line.hi.forEach((v, i) => {
        if (v !== null && v > top) top = v;
        if (v !== null && (peak === null || v > peak)) { peak = v; peakX = i; }
      });
    }
    const scale = top > 0 ? (H - PAD - 2) / top : 0;
    const y = (v) => H - PAD - v * scale;
    chart.lines.forEach((line, n) => {
      const color = COLORS[n % COLORS.length];
      // points are joined across empty columns (a bucket is wider than a column when zoomed
      // in), not across a gap of more than 3 % of the chart (no sample there)
      let band = "", path = "", open = false, last = -1e9;
      line.hi.forEach((hi, i) => {
        if (hi === null) return;
        if (i - last > Math.max(3, width * 0.03, 2.5 * (stepCols || 0))) open = false;
        last = i;
        const lo = line.lo[i];
        band += `M${i},${y(lo).toFixed(1)}V${Math.min(y(hi), y(lo) - 1).toFixed(1)}`;
        path += (open ? "L" : "M") + i + "," + y(hi).toFixed(1);
        open = true;
      });
      svg.append(el("svg:path", { d: band, stroke: color, "stroke-opacity": ".35",
                                  fill: "none" }));
      svg.append(el("svg:path", { d: path, stroke: color, fill: "none", "stroke-width": "1.3",
                                  "class": "line", "data-line": line.key }));
    });
    // time ticks
    const ticks = Math.max(2, Math.floor(width / 160));
    for (let k = 0; k < ticks; k++) {
      const i = Math.floor(k * (columns.length - 1) / (ticks - 1));
      const label = el("svg:text", { x: Math.min(i, width - 70), y: H - 3, "class": "axis" },
                       fmtShort.format(new Date(columns[i])));
      svg.append(label);
    }
    svg.append(el("svg:text", { x: 2, y: 10, "class": "axis" },
                  top ? top.toLocaleString(undefined, { maximumFractionDigits: 1 }) +
                        (chart.unit ? " " + chart.unit : "") : "no data"));
    if (peakX !== null) svg.dataset.peakX = String(peakX);
    const sel = el("svg:rect", { x: 0, y: 0, width: 0, height: H, fill: "rgba(31,111,235,.15)",
                                 "class": "selection", visibility: "hidden" });
    svg.append(sel);
    const cursor = el("svg:line", { x1: 0, x2: 0, y1: 0, y2: H, stroke: "#1d2430",
                                    "stroke-dasharray": "2,2", "class": "cursor",
                                    visibility: "hidden" });
    svg.append(cursor);
    const wrap = el("div", { "class": "chart", "data-key": chart.key });
    const h = el("h3", {}, chart.title);
    if (peak !== null) h.append(el("span", { "class": "peak" },
      "peak " + peak.toLocaleString(undefined, { maximumFractionDigits: 1 }) +
      (chart.unit ? " " + chart.unit : "")));
    wrap.append(h, svg);
    if (chart.lines.length > 1) {
      const legend = el("div", { "class": "legend" });
      chart.lines.forEach((line, n) => {
        const s = el("span", {}, line.label);
        const i = el("i", {});
        i.style.background = COLORS[n % COLORS.length];
        s.prepend(i);
        legend.append(s);
      });
      wrap.append(legend);
    }
    box.append(wrap);
    return svg;
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

  async function timeline() {
    const box = document.getElementById("charts");
    const triage = document.getElementById("triage");
    const tools = document.getElementById("selection-tools");
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
    const timeAt = (x) => from + (to - from) * Math.max(0, Math.min(x, width)) / width;
    const stepCols = (data.step_ms || 0) * width / (to - from);
    const svgs = data.charts.map((c) => drawChart(box, c, data.columns, width, stepCols));
    if (!data.minutes) box.prepend(el("p", { "class": "empty" }, "No sample in this range."));
    let start = null, selected = null;
    const xOf = (ev, svg) => (ev.clientX - svg.getBoundingClientRect().left) *
                             width / svg.getBoundingClientRect().width;
    const paint = (a, b) => {
      for (const s of svgs) {
        const r = s.querySelector(".selection");
        r.setAttribute("x", Math.min(a, b)); r.setAttribute("width", Math.abs(b - a));
        r.setAttribute("visibility", "visible");
      }
    };
    const cursorAt = (x) => {
      for (const s of svgs) {
        const c = s.querySelector(".cursor");
        c.setAttribute("x1", x); c.setAttribute("x2", x); c.setAttribute("visibility", "visible");
      }
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
          cursorAt(x);
          // a click stands for its pixel column: a flagged sample in it is judged. A bucket
          // drawn in the column starts in it and holds samples for one step after that.
          const at = timeAt(Math.floor(x));
          const within = Math.ceil((to - from) / width) + (data.step_ms || 0);
          triage.replaceChildren(el("p", { "class": "empty" }, "judging " + shown(at) + "…"));
          try {
            const report = await getJSON("/api/triage", { at: new Date(at).toISOString(),
                                                          within_ms: within });
            renderFindings(triage, "Triage at " + shown(at), report);
          } catch (e) { triage.replaceChildren(el("p", { "class": "empty" }, e.message)); }
          return;
        }
        paint(a, x);
        selected = [timeAt(Math.min(a, x)), timeAt(Math.max(a, x))];
        tools.hidden = false;
        document.body.dataset.selection = new Date(selected[0]).toISOString() + "/" +
                                          new Date(selected[1]).toISOString();
        triage.replaceChildren(el("p", { "class": "empty" }, "judging the window…"));
        try {
          const report = await getJSON("/api/window", {
            from: new Date(selected[0]).toISOString(), to: new Date(selected[1]).toISOString() });
          renderFindings(triage, "Window " + shown(selected[0]) + " – " + shown(selected[1]),
                         report);
        } catch (e) { triage.replaceChildren(el("p", { "class": "empty" }, e.message)); }
      });
    }
    document.getElementById("zoom").onclick = () => { if (selected) go(selected[0], selected[1]); };
    document.body.dataset.ready = "timeline";
  }

  // -- tables ------------------------------------------------------------------------------
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

  async function statements() {
    const data = await getJSON("/api/statements", query());
    fill(document.getElementById("statements"), data.statements.map((s) => row([
      [s.query, "query"], [num(s.calls, 0), "num"],
      [num(s.calls_per_s, 2), "num " + trend(s.calls_per_s, s.prev_calls_per_s)],
      [num(s.prev_calls_per_s, 2), "num"],
      [num(s.mean_ms, 2), "num " + trend(s.mean_ms, s.prev_mean_ms)],
      [num(s.prev_mean_ms, 2), "num"], [num(s.total_ms, 0), "num"]])),
      "No statement ran in this range (or pg_stat_statements was not read).");
  }

  async function jobs() {
    const data = await getJSON("/api/jobs", query());
    fill(document.getElementById("jobs"), data.jobs.map((j) => row([
      [j.name + " — " + j.command, "query"], [j.schedule], [num(j.runs_in_window, 0), "num"],
      [num(j.runs, 0), "num"], [num(j.failed, 0), "num" + (j.failed ? " up" : "")],
      [num(j.did_nothing, 0), "num"], [num(j.mean_s, 2), "num"], [num(j.max_s, 2), "num"],
      [(j.last_status || "–") + (j.last_error ? ": " + j.last_error : "")]])),
      "No pg_cron job was recorded.");
  }

  async function views() {
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
    fill(t, runs.map(([n, r]) => row([[n], [shown(Date.parse(r.started))], [num(r.seconds) + " s", "num"],
                                      ["pid " + r.pid]])),
         "No refresh seen since " + shown(Date.parse(data.walked_from)) + ".");
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

  async function errors() {
    const box = document.getElementById("error-chart");
    const width = Math.max(200, Math.floor(box.clientWidth || 800));
    const data = await getJSON("/api/errors", query({ width: width }));
    box.replaceChildren();
    drawChart(box, { key: "errors", title: "errors per minute", unit: "/min",
                     lines: data.series }, data.columns, width);
    document.getElementById("error-total").textContent =
      data.total + " error(s) in this range, from the server's log";
    for (const kind of ["tag", "sqlstate", "statement", "application"]) {
      fill(document.getElementById("errors-" + kind), data[kind].map((g) => {
        const tr = row([[g.key.filter(Boolean).join(" · "), kind === "statement" ? "query" : ""],
                        [num(g.count, 0), "num count"], [g.sqlstate], [g.sample, "query"]]);
        tr.dataset.key = g.key[0];
        return tr;
      }), "No error in this range (is record following the log with --log?).");
    }
    document.body.dataset.ready = "errors";
  }

  async function main() {
    try {
      const recs = await getJSON("/api/recordings", {});
      const me = recs.recordings.find((r) => r.name === document.body.dataset.recording);
      state.coverage = me && me.from ? { from: me.from, to: me.to } : null;
    } catch (e) { /* drawn as empty below */ }
    setupRange();
    const pages = { timeline, statements, jobs, views, errors };
    try { await pages[page](); } catch (e) {
      document.getElementById("main").append(el("p", { "class": "empty" }, e.message));
    }
    if (!document.body.dataset.ready) document.body.dataset.ready = page;
  }

  main();
  // live: while the range follows the recording's end, look again every 5 s
  if (live() && page === "timeline") {
    setInterval(async () => {
      if (document.body.dataset.selection || document.querySelector(".finding, #triage h2")) return;
      try {
        const recs = await getJSON("/api/recordings", {});
        const me = recs.recordings.find((r) => r.name === document.body.dataset.recording);
        if (me && me.to && (!state.coverage || me.to !== state.coverage.to)) {
          state.coverage = { from: me.from, to: me.to };
          setupRange();
          await timeline();
        }
      } catch (e) { /* the next poll tries again */ }
    }, 5000);
  }
})();
