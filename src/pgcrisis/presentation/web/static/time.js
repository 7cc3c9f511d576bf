// pgcrisis serve: how the pages write a moment, and where a chart's time axis puts its labels.
// Every time is written in one zone, the browser's, which the page names; 24-hour clock;
// seconds where the range is short enough for them to matter. No locale decides the format.
"use strict";

export const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const PARTS = new Intl.DateTimeFormat("en-GB", {
  timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
  minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" });

function parts(ms) {
  const out = {};
  for (const p of PARTS.formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

// "UTC", or "Europe/Paris (CET)": the zone every time on the page is in
export function zoneName() {
  const short = parts(Date.now()).timeZoneName;
  return short && short !== ZONE ? `${ZONE} (${short})` : ZONE;
}

// 2026-12-06
export function day(ms) {
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day}`;
}

// 00:13:05 (or 00:13)
export function clock(ms, seconds = true) {
  const p = parts(ms);
  return `${p.hour}:${p.minute}` + (seconds ? `:${p.second}` : "");
}

// 2026-12-06 00:13:05
export function stamp(ms) {
  return day(ms) + " " + clock(ms);
}

// a range, its end's day left out when it is the start's: 2026-12-06 00:12:58 – 00:14:09
export function span(from, to) {
  return stamp(from) + " – " + (day(from) === day(to) ? clock(to) : stamp(to));
}

// the zone's offset from UTC at a moment (ms; local = UTC + offset)
function offset(ms) {
  const p = parts(ms);
  const local = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return local - Math.floor(ms / 1000) * 1000;
}

const SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
const STEPS = [SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE,
  2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR,
  6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

// The labels of a time axis over [from, to) drawn `width` pixels wide: at round moments of
// the zone (every 10 s, 5 min, 6 h...), about 110 px apart, each written once and as short
// as it can be (seconds only when the step is under a minute, the day only across days).
// Each: { t (ms), x (0..1 of the width), text }.
export function ticks(from, to, width) {
  const most = Math.max(2, Math.floor(width / 110));
  const step = STEPS.find((s) => (to - from) / s <= most) || STEPS[STEPS.length - 1];
  const shift = offset(from);
  const out = [];
  const days = day(from) !== day(to - 1);
  for (let t = Math.ceil((from + shift) / step) * step - shift; t < to; t += step) {
    let text = step >= DAY ? day(t) : clock(t, step < MINUTE);
    if (days && step < DAY && (out.length === 0 || day(t) !== day(out[out.length - 1].t))) {
      text = day(t).slice(5) + " " + text;
    }
    out.push({ t: t, x: (t - from) / (to - from), text: text });
  }
  return out;
}
