// pgcrisis serve: the charts, inline SVG, one unit of width per pixel column the server
// reduced the figures to. A line chart draws each column's minimum to maximum as a band and
// its maximum as a line; the load's chart stacks each column's sessions by wait class (the
// column's busiest sample) under the CPU count, drawn as a dashed line.
"use strict";

import { ticks } from "./time.js";

const SVGNS = "http://www.w3.org/2000/svg";
export const COLORS = ["#1f6feb", "#d97706", "#94a3b8", "#7c3aed", "#059669", "#dc2626"];
// the wait classes' colours: on CPU green, I/O blue, locks red, as load charts usually are
export const CLASS_COLORS = { CPU: "#2e7d32", IO: "#1f6feb", Lock: "#c62828",
  LWLock: "#d97706", IPC: "#7c3aed", Client: "#94a3b8", Other: "#6b7280" };
const H = 90, STACK_H = 150, PAD = 16;

export function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4))
                                   : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

const figure = (v, unit) => v.toLocaleString("en", { maximumFractionDigits: v < 10 ? 2 : 1 }) +
  (unit ? " " + unit : "");

// the time axis under a chart: labels at round moments (time.js), each with its moment
function axis(svg, from, to, width, height) {
  for (const tick of ticks(from, to, width)) {
    const x = tick.x * width;
    svg.append(el("svg:line", { x1: x, x2: x, y1: height - PAD + 2, y2: height - PAD + 5,
                                stroke: "#98a2b3" }));
    svg.append(el("svg:text", { x: Math.min(Math.max(x - 2, 0), width - 60), y: height - 3,
                                "class": "axis tick", "data-t": String(tick.t) }, tick.text));
  }
}

// the selection and the cursor every chart carries (the page moves them)
function overlays(svg, height) {
  svg.append(el("svg:rect", { x: 0, y: 0, width: 0, height: height,
                              fill: "rgba(31,111,235,.15)", "class": "selection",
                              visibility: "hidden" }));
  svg.append(el("svg:line", { x1: 0, x2: 0, y1: 0, y2: height, stroke: "#1d2430",
                              "stroke-dasharray": "2,2", "class": "cursor",
                              visibility: "hidden" }));
}

function frame(box, chart, svg, peak, legend) {
  const wrap = el("div", { "class": "chart", "data-key": chart.key });
  const h = el("h3", {}, chart.title);
  if (peak !== null) h.append(el("span", { "class": "peak" }, "peak " + figure(peak, chart.unit)));
  wrap.append(h, svg);
  if (legend.length > 1) {
    const box2 = el("div", { "class": "legend" });
    for (const [label, color] of legend) {
      const s = el("span", {}, label);
      const i = el("i", {});
      i.style.background = color;
      s.prepend(i);
      box2.append(s);
    }
    wrap.append(box2);
  }
  if (chart.note) wrap.append(el("p", { "class": "note" }, chart.note));
  box.append(wrap);
}

// A line chart of `chart.lines` over [from, to), `width` columns; `stepCols`: how many
// columns one bucket of the figures spans (points are joined across that many empty ones).
// A line with `band` draws only its lo-hi band (a forecast's interval); with `dash`, dashed.
export function drawChart(box, chart, from, to, width, stepCols) {
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
    const color = line.color || COLORS[n % COLORS.length];
    // not joined across a gap of more than 3 % of the chart (no sample there)
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
    svg.append(el("svg:path", { d: band, stroke: color, "stroke-opacity": ".35", fill: "none",
                                "class": line.band ? "band" : "spread",
                                "data-line": line.band ? line.key : "" }));
    // a forecast's interval (line.band) is the band alone; a limit (line.dash) is dashed
    if (!line.band) {
      svg.append(el("svg:path", Object.assign(
        { d: path, stroke: color, fill: "none", "stroke-width": "1.3", "class": "line",
          "data-line": line.key }, line.dash ? { "stroke-dasharray": "5,3" } : {})));
    }
  });
  axis(svg, from, to, width, H);
  svg.append(el("svg:text", { x: 2, y: 10, "class": "axis" },
                top ? figure(top, chart.unit) : "no data"));
  if (peakX !== null) svg.dataset.peakX = String(peakX);
  overlays(svg, H);
  frame(box, chart, svg, peak,
        chart.lines.map((l, n) => [l.label, l.color || COLORS[n % COLORS.length]]));
  return svg;
}

// The load: each column's sessions stacked by wait class (CPU at the bottom), a bucket held
// over the columns it spans, under the CPU count (a dashed line, its label at the right).
export function drawStack(box, chart, from, to, width, stepCols) {
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${STACK_H}`, width: width,
                              height: STACK_H, "data-key": chart.key, "class": "stack",
                              preserveAspectRatio: "none", "shape-rendering": "crispEdges" });
  const hold = Math.max(1, Math.ceil(stepCols || 0));
  const stacks = new Array(width).fill(null);
  let last = null, lastAt = -1e9, peak = null;
  for (let i = 0; i < width; i++) {
    const values = chart.classes.map((c) => c.values[i]);
    if (values.some((v) => v !== null && v !== undefined)) {
      last = values.map((v) => v || 0); lastAt = i;
      const total = last.reduce((a, b) => a + b, 0);
      if (peak === null || total > peak) peak = total;
    } else if (i - lastAt >= hold) last = null;
    stacks[i] = last;
  }
  // the CPU count held over the columns a stack is (a count is read with a sample, drawn
  // as a line across the bucket it stands for, not as a dot at the sample's column)
  const cpus = new Array(width).fill(null);
  let count = null;
  for (let i = 0; i < width; i++) {
    const c = (chart.cpus || [])[i];
    if (c !== null && c !== undefined) count = c;
    else if (!stacks[i]) count = null;
    cpus[i] = count;
  }
  const most = Math.max(peak || 0, ...cpus.filter((c) => c !== null));
  const scale = most > 0 ? (STACK_H - PAD - 12) / (most * 1.05) : 0;
  const y = (v) => STACK_H - PAD - v * scale;
  chart.classes.forEach((cls, n) => {
    let d = "", high = 0;
    stacks.forEach((stack, i) => {
      if (!stack || !stack[n]) return;
      const below = stack.slice(0, n).reduce((a, b) => a + b, 0);
      d += `M${i + 0.5},${y(below).toFixed(1)}V${y(below + stack[n]).toFixed(1)}`;
      high = Math.max(high, stack[n]);
    });
    svg.append(el("svg:path", { d: d, stroke: CLASS_COLORS[cls.key] || "#6b7280",
                                "stroke-width": "1", fill: "none", "class": "class",
                                "data-class": cls.key, "data-max": String(high) }));
  });
  let line = "", open = false;
  cpus.forEach((c, i) => {
    if (c === null || c === undefined) { open = false; return; }
    line += (open ? "L" : "M") + i + "," + y(c).toFixed(1) + "H" + (i + 1);
    open = true;
  });
  if (line) {
    const known = cpus.filter((c) => c !== null);
    svg.append(el("svg:path", { d: line, stroke: "#1d2430", "stroke-width": "1.5",
                                "stroke-dasharray": "6,3", fill: "none", "class": "cpus",
                                "data-cpus": String(Math.max(...known)) }));
    svg.append(el("svg:text", { x: width - 4, y: y(known[known.length - 1]) - 3,
                                "text-anchor": "end", "class": "axis cpu-label" },
                  chart.cpus_label || ""));
  }
  axis(svg, from, to, width, STACK_H);
  svg.append(el("svg:text", { x: 2, y: 10, "class": "axis" },
                most ? figure(most * 1.05, chart.unit) : "no data"));
  overlays(svg, STACK_H);
  frame(box, chart, svg, peak,
        chart.classes.map((c) => [c.label, CLASS_COLORS[c.key] || "#6b7280"]));
  return svg;
}
