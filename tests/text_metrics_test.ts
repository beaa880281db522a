/**
 * Figure layout measures text with the PNG font: a long subtitle must not widen the figure by vega's
 * 0.8 × font-size-per-character estimate.
 */
import assert from "node:assert/strict";
import type { TopLevelSpec } from "vega-lite";
import { findFont, renderSvg } from "../runner/report/figures.ts";
import { textWidth, useEstimatedMetrics, useFontMetrics } from "../runner/report/text_metrics.ts";

const SUBTITLE =
  "teacher's label on rows without an emotion label; mean over seeds; x = images seen when labelled";

function spec(): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "T", subtitle: SUBTITLE, subtitleFontSize: 12, anchor: "start" },
    width: 100,
    height: 50,
    data: { values: [{ x: 1, y: 1 }, { x: 2, y: 3 }] },
    mark: "line",
    encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
  } as TopLevelSpec;
}

function svgWidth(svg: string): number {
  const m = svg.match(/^<svg[^>]*\swidth="([\d.]+)"/);
  assert.ok(m, "the SVG has a width");
  return Number(m[1]);
}

Deno.test("text widths come from the font: DejaVu Sans sets the subtitle about 600 px wide at 12 px", () => {
  const font = findFont();
  try {
    useEstimatedMetrics();
    // Vega's own estimate: floor(0.8 × 96 characters × 12 px).
    assert.equal(textWidth(SUBTITLE, 12), Math.floor(0.8 * SUBTITLE.length * 12));
    useFontMetrics(font);
    const w = textWidth(SUBTITLE, 12);
    assert.ok(w > 580 && w < 620, `measured ${w}`);
    // Widths scale with the font size and grow with the text.
    assert.ok(Math.abs(textWidth(SUBTITLE, 24) - 2 * w) < 1e-9);
    assert.ok(textWidth("WWW", 12) > textWidth("iii", 12));
    assert.equal(textWidth("", 12), 0);
  } finally {
    useFontMetrics(font);
  }
});

Deno.test("a long subtitle widens a figure only as far as the font sets it", async () => {
  const font = findFont();
  try {
    // The figure is as wide as its subtitle: 0.8 × 96 × 12 = 921 px estimated, about 600 px measured.
    const estimated = svgWidth(await renderSvg(spec(), { fontFile: null }));
    assert.ok(estimated > 900, `estimated layout ${estimated} px`);
    const measured = svgWidth(await renderSvg(spec(), { fontFile: font }));
    assert.ok(measured > 590 && measured < 640, `measured layout ${measured} px`);
    // The default is the PNG font.
    assert.equal(svgWidth(await renderSvg(spec())), measured);
  } finally {
    useFontMetrics(font);
  }
});
