// The deliveries of the last hours as stacked bars, drawn here as SVG (no chart library),
// with the same numbers in a table for whoever does not see the picture.

import { h, s } from "./dom.js";

export const OUTCOMES = [
  ["delivered", "Delivered"],
  ["failed", "Failed"],
  ["invalid_token", "Invalid token"],
  ["expired", "Expired"],
];
const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 44 };

function total(hour) {
  return OUTCOMES.reduce((sum, [key]) => sum + (Number(hour[key]) || 0), 0);
}

/** The smallest "round" number (1, 2, 5 × 10^n) at or above `value`, at least 4. */
export function niceCeiling(value) {
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

function hourLabel(hour) {
  return String(hour.hour).slice(11, 16);
}

function summary(hours) {
  const sums = OUTCOMES.map(([key, label]) => `${hours.reduce((sum, hour) => sum + (Number(hour[key]) || 0), 0)} ${label.toLowerCase()}`);
  return `Over ${hours.length} hours: ${sums.join(", ")}.`;
}

export function deliveriesChart(hours, { title }) {
  const top = niceCeiling(Math.max(0, ...hours.map(total)));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / Math.max(1, hours.length);
  const barWidth = Math.max(2, slot * 0.7);
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((fraction) => {
    const value = top * fraction;
    return s("g", null,
      s("line", { class: "grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value) }),
      s("text", { x: MARGIN.left - 6, y: y(value) + 4, "text-anchor": "end" }, Number.isInteger(value) ? value : value.toFixed(1)),
    );
  });
  const bars = hours.map((hour, index) => {
    const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
    let base = 0;
    const parts = OUTCOMES.filter(([key]) => Number(hour[key]) > 0).map(([key]) => {
      const value = Number(hour[key]);
      const rect = s("rect", { class: `bar-${key}`, x, width: barWidth, y: y(base + value), height: y(base) - y(base + value) });
      base += value;
      return rect;
    });
    const described = OUTCOMES.map(([key, label]) => `${Number(hour[key]) || 0} ${label.toLowerCase()}`).join(", ");
    const label = index % 6 === 0 || index === hours.length - 1
      ? s("text", { x: x + barWidth / 2, y: HEIGHT - 8, "text-anchor": "middle" }, hourLabel(hour))
      : null;
    return s("g", null, s("title", null, `${hourLabel(hour)} UTC: ${described}`), parts, label);
  });
  const titleId = `chart-title-${Math.random().toString(36).slice(2)}`;
  const descId = `${titleId}-desc`;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${titleId} ${descId}` },
    s("title", { id: titleId }, title),
    s("desc", { id: descId }, summary(hours)),
    grid,
    s("line", { class: "axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }),
    bars,
  );
  const legend = h("ul", { class: "legend", "aria-hidden": "true" }, OUTCOMES.map(([key, label]) =>
    h("li", null, s("svg", { viewBox: "0 0 10 10" }, s("rect", { class: `bar-${key}`, width: 10, height: 10 })), label)));
  const rows = hours.map((hour) => h("tr", null, h("th", { scope: "row" }, `${hourLabel(hour)} UTC`), OUTCOMES.map(([key]) => h("td", { class: "num" }, Number(hour[key]) || 0))));
  const data = h("details", null, h("summary", null, "The same numbers as a table"),
    h("div", { class: "table-wrap" }, h("table", null,
      h("caption", null, title),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Hour"), OUTCOMES.map(([, label]) => h("th", { scope: "col", class: "num" }, label)))),
      h("tbody", null, rows))));
  return h("figure", { class: "deliveries" }, svg, legend, h("figcaption", { class: "hint" }, summary(hours)), data);
}
