/**
 * Text widths for vega's headless layout, measured with the font the PNGs are drawn with. Without a
 * canvas, vega estimates every string as 0.8 × font size per character, about 50 % wider than DejaVu Sans
 * sets it: a long subtitle then widens the whole figure and leaves a blank band right of the legend, and
 * label limits cut text that would fit. With these metrics the layout is sized to the text resvg draws.
 * @module
 */
import * as vega from "vega";
import opentype from "opentype.js";

/** The part of an opentype.js font this module uses (the package ships no types). */
interface AdvanceFont {
  getAdvanceWidth(text: string, fontSize: number): number;
}

/** The part of vega's (untyped) text-metrics object that layout reads. */
interface VegaTextMetrics {
  width: (item: { fontSize?: number }, text: unknown) => number;
  estimateWidth: (item: { fontSize?: number }, text: unknown) => number;
}

/** Vega's text measurer: one object per process, whose `width` every layout calls. */
const METRICS = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;

/** Vega's default font size for text marks without one. */
const VEGA_DEFAULT_FONT_SIZE = 11;

let installedFor: string | null = null;

/**
 * Measure every text vega lays out from now on with the advance widths of `fontFile` (a TTF). Vega keeps one
 * text measurer per process, so this is global; calling it again with the same file does nothing.
 */
export function useFontMetrics(fontFile: string): void {
  if (installedFor === fontFile) return;
  const bytes = Deno.readFileSync(fontFile);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const font = (opentype as unknown as { parse(b: ArrayBuffer): AdvanceFont }).parse(buffer);
  METRICS.width = (item, text) =>
    text === null || text === undefined || text === ""
      ? 0
      : font.getAdvanceWidth(String(text), item.fontSize ?? VEGA_DEFAULT_FONT_SIZE);
  installedFor = fontFile;
}

/** Back to vega's own estimate (0.8 × font size per character); for tests. */
export function useEstimatedMetrics(): void {
  METRICS.width = METRICS.estimateWidth;
  installedFor = null;
}

/** The width vega will give `text` at `fontSize` with the metrics now in use (px). */
export function textWidth(text: string, fontSize: number): number {
  return METRICS.width({ fontSize }, text);
}
