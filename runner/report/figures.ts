/**
 * Figures of the comparison, as SVG (vega-lite -> vega, headless, text laid out with DejaVu Sans's widths:
 * see text_metrics.ts) and PNG (resvg with DejaVu Sans):
 * validation-accuracy curves per column (mean over seeds, band = ± std), test accuracy per method with
 * error bars, confusion matrices per method and column (summed over seeds, colour = row share) and
 * pseudo-label accuracy; curves run against training images seen, so alternating and joint methods share
 * an axis.
 * @module
 */
import { cycleMeans } from "./convergence.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../../core/fs.ts";
import { classDisplayNames } from "../../datasets/label_spaces.ts";
import { useEstimatedMetrics, useFontMetrics } from "./text_metrics.ts";
import type { CompareResults } from "./results.ts";
import type { Contrast } from "./analysis.ts";
import { runPseudoLabels } from "./results.ts";
import { mean, sampleStd } from "./stats.ts";
import { type Column, findCell, type ReportSummary } from "./table.ts";

/** A written figure, with paths relative to the report folder. */
export interface FigureRef {
  kind: "curves" | "summary" | "differences" | "confusion" | "pseudo";
  title: string;
  svg: string;
  png: string | null;
  method?: string;
  column?: string;
}

/** Options of {@link writeFigures}. */
export interface FigureOptions {
  /** Also write PNGs (default true). */
  png?: boolean;
  /** TTF font for the PNGs (default: DejaVu Sans from node_modules or the system). */
  fontFile?: string;
  /** PNG scale factor over the SVG size (default 2). */
  pngScale?: number;
}

const FONT = "DejaVu Sans";

/** Where DejaVu Sans is looked for, in order. */
export const FONT_CANDIDATES: string[] = [
  fileURLToPath(new URL("../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf", import.meta.url)),
  join(Deno.cwd(), "node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
  "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

/** The first DejaVu Sans file that exists (`explicit` alone when given), or undefined. */
function existingFont(explicit?: string): string | undefined {
  return (explicit ? [explicit] : FONT_CANDIDATES).find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

/** The first DejaVu Sans file that exists; throws naming every path tried. */
export function findFont(explicit?: string): string {
  const found = existingFont(explicit);
  if (found) return found;
  const tries = explicit ? [explicit] : FONT_CANDIDATES;
  throw new Error(`no TTF font for PNG figures: tried ${tries.join(", ")} (pass fontFile, or png: false)`);
}

// Tableau 10 then its light variants: distinct for up to 20 methods.
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#333333",
  "#a0cbe8",
  "#ffbe7d",
  "#ff9d9a",
  "#86bcb6",
  "#8cd17d",
  "#f1ce63",
  "#d4a6c8",
  "#fabfd2",
  "#d7b5a6",
  "#79706e",
];

const CONFIG = {
  font: FONT,
  background: "white",
  title: { fontSize: 15, anchor: "start" as const, subtitleFontSize: 12, subtitleColor: "#555" },
  axis: { labelFontSize: 12, titleFontSize: 13 },
  legend: { labelFontSize: 12, titleFontSize: 13, symbolSize: 120, labelLimit: 260 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  view: { stroke: "#ccc" },
};

/** Colours by method, fixed across figures; `only` restricts the legend to the methods drawn. */
function methodScale(s: ReportSummary, only?: string[]) {
  const domain = only ? s.methods.filter((m) => only.includes(m)) : s.methods;
  return { domain, range: domain.map((m) => PALETTE[s.methods.indexOf(m) % PALETTE.length]) };
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

/**
 * Compile a vega-lite spec and render it to an SVG string (no DOM needed). Text is laid out with the widths
 * of `fontFile` (default: the first of {@link FONT_CANDIDATES}, the font the PNGs use), or with vega's
 * estimate (0.8 × font size per character) where `fontFile` is null or no font file is found.
 */
export async function renderSvg(
  spec: TopLevelSpec,
  options: { fontFile?: string | null } = {},
): Promise<string> {
  const fontFile = options.fontFile === undefined ? existingFont() : options.fontFile;
  if (fontFile) useFontMetrics(fontFile);
  else useEstimatedMetrics();
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterise an SVG to PNG bytes with the given font. resvg is a native addon, loaded on first use, so the
 * modules that can draw (reports, run plots) still load where it cannot (a one-file bundle, see
 * bench/cli_bundle.ts).
 */
export async function svgToPng(
  svg: string,
  options: { fontFile: string; scale?: number },
): Promise<Uint8Array> {
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: options.scale ?? 2 },
    font: { fontFiles: [options.fontFile], loadSystemFonts: false, defaultFontFamily: FONT },
  });
  return r.render().asPng();
}

/** File-name-safe form of a method or column name. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "x";
}

/** What a figure's lines are over: one seed's values need no "mean". */
function seedsAveraged(seeds: number): string {
  return seeds === 1 ? "1 seed" : `mean over ${seeds} seeds`;
}

/**
 * A run's points of `metric`; for an alternating run, one per cycle (the mean of its evaluations, one per
 * dataset, at the cycle's last epoch), as the convergence check reads them: its raw curve is a sawtooth
 * whose last point may follow the other dataset's epoch.
 */
function runPoints(r: CompareResults["runs"][number], metric: string) {
  const pts = r.curves.filter((c) => c.metric === metric && c.value !== null && Number.isFinite(c.value))
    .sort((a, b) => a.epoch - b.epoch);
  const cycle = r.evalsPerCycle ?? 1;
  if (cycle <= 1) return pts;
  return cycleMeans(pts.map((c) => ({ x: c.epoch, value: c.value })), cycle).map((p) => ({
    ...pts.find((c) => c.epoch === p.x)!,
    value: p.value,
  }));
}

/**
 * Per method and epoch: mean and ± std over seeds of `metric` (seeds lacking an epoch are left out), at
 * x = the mean training images seen at that epoch (the epoch itself when images were not logged).
 */
function meanCurve(results: CompareResults, method: string, metric: string) {
  const byEpoch = new Map<number, { values: number[]; images: number[] }>();
  for (const r of results.runs) {
    if (r.method !== method) continue;
    for (const c of runPoints(r, metric)) {
      const a = byEpoch.get(c.epoch) ?? { values: [], images: [] };
      a.values.push(c.value);
      if (typeof c.imagesSeen === "number") a.images.push(c.imagesSeen);
      byEpoch.set(c.epoch, a);
    }
  }
  return [...byEpoch.entries()].sort((a, b) => a[0] - b[0]).map(([epoch, { values, images }]) => {
    const m = mean(values)! * 100;
    const sd = (sampleStd(values) ?? 0) * 100;
    const byImages = images.length === values.length;
    return {
      method,
      epoch,
      x: byImages ? mean(images)! : epoch,
      byImages,
      mean: m,
      lo: m - sd,
      hi: m + sd,
      n: values.length,
    };
  });
}

/** Methods one curves panel overlays; with more, each method gets a panel of its own. */
export const MAX_OVERLAID = 4;

/**
 * Validation accuracy for every method on one column against training images seen (so alternating and
 * joint methods share an axis; epochs when a run did not log images seen); null when nothing was logged.
 * Up to {@link MAX_OVERLAID} methods share one panel; more (ten in the default comparison) overlap into a
 * tangle where no method can be followed, so each gets a small panel of its own with its ± 1 std band and
 * the reference method (STL) as a grey line to read it against.
 */
export function curvesSpec(results: CompareResults, s: ReportSummary, col: Column): TopLevelSpec | null {
  const metric = `${col.task}/${col.dataset}/val/acc`;
  const rows = s.methods.flatMap((m) =>
    meanCurve(results, m, metric).map((r) => ({
      ...r,
      colour: PALETTE[s.methods.indexOf(m) % PALETTE.length],
    }))
  );
  if (rows.length === 0) return null;
  const byImages = rows.every((r) => r.byImages);
  const present = uniq(rows.map((r) => r.method));
  const x = byImages
    ? {
      field: "x",
      type: "quantitative" as const,
      title: "Training images seen per dataset",
      axis: IMAGES_AXIS,
    }
    : { field: "x", type: "quantitative" as const, title: "Epoch", axis: { tickMinStep: 1 } };
  const y = {
    field: "mean",
    type: "quantitative" as const,
    title: "Validation accuracy (%)",
    scale: { zero: false },
  };
  const tooltip = [{ field: "method" }, { field: "epoch" }, {
    field: "x",
    title: byImages ? "images" : "epoch",
  }, {
    field: "mean",
    format: ".2f",
  }, {
    field: "n",
  }];
  const panels = present.length > MAX_OVERLAID;
  const seeds = s.seeds.length > 1;
  const reference = panels && s.baseline !== null && present.includes(s.baseline) ? s.baseline : null;
  const subtitle = seedsAveraged(s.seeds.length) +
    (seeds ? ", band = ± 1 std" : "") +
    (reference ? `; grey line = ${reference}` : "") +
    (byImages ? "; x = training images per dataset" : "") +
    (results.runs.some((r) => (r.evalsPerCycle ?? 1) > 1)
      ? "; alternating methods: mean of each cycle (one epoch per dataset)"
      : "");
  // Colours straight from the data (scale null): one method per panel needs no legend.
  const band = (bx: Record<string, unknown>) => ({
    mark: { type: "area" as const, opacity: panels ? 0.2 : 0.12 },
    encoding: {
      x: bx,
      y: { field: "lo", type: "quantitative" as const },
      y2: { field: "hi" },
      fill: { field: "colour", type: "nominal" as const, scale: null },
      detail: { field: "method" },
    },
  });
  if (panels) {
    // A panel is narrower than the full axis title (the subtitle says what x counts),
    // and a narrow panel has room for about four ticks (ten drop labels unevenly to avoid overlap).
    const px = byImages
      ? { ...x, title: "Images per dataset", axis: { ...IMAGES_AXIS, tickCount: 4 } }
      : { ...x, title: "Epoch" };
    const own = rows.map((r) => ({ ...r, panel: r.method, role: "method" }));
    const ref = reference === null
      ? []
      : present.filter((m) => m !== reference).flatMap((panel) =>
        rows.filter((r) => r.method === reference).map((r) => ({ ...r, panel, role: "reference" }))
      );
    const isRef = "datum.role === 'reference'";
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: { text: `Validation accuracy: ${col.key}`, subtitle },
      data: { values: [...ref, ...own] },
      facet: {
        field: "panel",
        type: "nominal",
        title: null,
        sort: present,
        header: { labelFontSize: 13, labelFontWeight: "bold" },
      },
      columns: Math.min(5, Math.ceil(present.length / 2)),
      spec: {
        width: 190,
        height: 130,
        layer: [
          ...(seeds ? [{ ...band(px), transform: [{ filter: `!(${isRef})` }] }] : []),
          {
            transform: [{ filter: isRef }],
            mark: { type: "line" as const, strokeWidth: 1.6, color: "#8c8c8c", strokeDash: [4, 3] },
            encoding: { x: px, y, tooltip },
          },
          {
            transform: [{ filter: `!(${isRef})` }],
            mark: { type: "line" as const, strokeWidth: 2, point: { size: 12 } },
            encoding: {
              x: px,
              y,
              color: { field: "colour", type: "nominal" as const, scale: null },
              tooltip,
            },
          },
        ],
      },
      config: CONFIG,
    } as TopLevelSpec;
  }
  const color = {
    field: "method",
    type: "nominal" as const,
    title: "Method",
    scale: methodScale(s, present),
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `Validation accuracy: ${col.key}`, subtitle },
    width: 560,
    height: 340,
    data: { values: rows },
    layer: [
      ...(seeds ? [band(x)] : []),
      {
        mark: { type: "line" as const, strokeWidth: 2.2, point: { size: 28 } },
        encoding: {
          x,
          y,
          color,
          strokeDash: {
            field: "method",
            type: "nominal" as const,
            title: "Method",
            scale: { domain: present },
          },
          tooltip,
        },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

/** Test accuracy (mean ± std over seeds) of every method, one panel per column. */
export function summarySpec(s: ReportSummary): TopLevelSpec {
  const rows = s.columns.flatMap((col) =>
    s.methods.map((m) => {
      const c = findCell(s, m, col);
      const mu = c.mean === null ? null : c.mean * 100;
      const sd = (c.std ?? 0) * 100;
      const base = s.baseline === null ? null : findCell(s, s.baseline, col).mean;
      return {
        column: col.key,
        method: m,
        mean: mu,
        lo: mu === null ? null : mu - sd,
        hi: mu === null ? null : mu + sd,
        base: base === null ? null : base * 100,
      };
    }).filter((r) => r.mean !== null)
  );
  const y = { field: "method", type: "nominal" as const, title: null, sort: s.methods };
  return methodPanels(s, rows, {
    text: "Test accuracy per method",
    subtitle: (s.seeds.length > 1 ? `mean ± 1 std over ${s.seeds.length} seeds` : "1 seed (no spread)") +
      (s.baseline === null ? "" : `; dashed line = ${s.baseline} mean`),
  }, [
    ...(s.baseline === null ? [] : [{
      mark: { type: "rule", strokeDash: [4, 3], color: "#888" },
      encoding: { x: { aggregate: "min", field: "base", type: "quantitative" } },
    }]),
    {
      mark: { type: "rule", strokeWidth: 2 },
      encoding: {
        y,
        x: { field: "lo", type: "quantitative", title: "Test accuracy (%)", scale: { zero: false } },
        x2: { field: "hi" },
        color: { field: "method", type: "nominal", scale: methodScale(s), legend: null },
      },
    },
    {
      mark: { type: "point", filled: true, size: 80 },
      encoding: {
        y,
        x: { field: "mean", type: "quantitative" },
        color: { field: "method", type: "nominal", scale: methodScale(s), legend: null },
      },
    },
    {
      mark: { type: "text", align: "left", dx: 8, dy: -9, fontSize: 11 },
      encoding: { y, x: { field: "mean", type: "quantitative" }, text: { field: "mean", format: ".2f" } },
    },
  ]);
}

/** Heat map of a confusion matrix: colour = share of the true class (row), text = share and count. */
export function confusionSpec(
  title: string,
  subtitle: string,
  classNames: string[],
  matrix: number[][],
): TopLevelSpec {
  const rows = matrix.flatMap((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, j) => ({
      truth: classNames[i],
      pred: classNames[j],
      count,
      share: total ? count / total : 0,
      label: total ? `${Math.round((100 * count) / total)}%` : "",
    }));
  });
  const cell = Math.max(34, Math.min(56, Math.round(420 / classNames.length)));
  const x = {
    field: "pred",
    type: "nominal" as const,
    sort: classNames,
    title: "Predicted",
    axis: { labelAngle: -40 },
  };
  const y = { field: "truth", type: "nominal" as const, sort: classNames, title: "True" };
  const textColor = { condition: { test: "datum.share > 0.55", value: "white" }, value: "#222" };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle },
    width: { step: cell },
    height: { step: cell },
    data: { values: rows },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          x,
          y,
          color: {
            field: "share",
            type: "quantitative",
            title: "Row share",
            scale: { domain: [0, 1], range: ["#f7fbff", "#08519c"] },
            legend: { format: ".0%" },
          },
          tooltip: [{ field: "truth" }, { field: "pred" }, { field: "count" }, {
            field: "share",
            format: ".1%",
          }],
        },
      },
      {
        mark: { type: "text", fontSize: 11, dy: -6 },
        encoding: { x, y, text: { field: "label" }, color: textColor },
      },
      {
        mark: { type: "text", fontSize: 9, dy: 7 },
        encoding: { x, y, text: { field: "count" }, color: textColor },
      },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

/**
 * The images-seen axis: SI prefixes ("1.5k"); vega formats every tick with the prefix of the largest, so zero
 * would read "0k". At most about ten ticks: vega's default (one per 40 px) put "15k" and "16k" into each
 * other on a 16k-image axis.
 */
const IMAGES_AXIS = {
  format: "~s",
  labelExpr: "datum.value === 0 ? '0' : datum.label",
  tickCount: 10,
  // Hide a label that would run into its neighbour (the last tick sits on the frame).
  labelOverlap: "greedy" as const,
  labelSeparation: 6,
};

/** The kinds of rows a pseudo-label figure draws, in legend order. */
const KINDS = ["all rows", "kept", "rejected"];
/** The smallest share of rejected rows whose accuracy a pseudo-label figure draws. */
const MIN_REJECTED_SHARE = 0.01;

/**
 * Pseudo-label accuracy (all / kept / rejected rows) for one pseudo-labelled column, against the training
 * images seen when the teacher made the labels (at the start of the epoch: the images of the epoch
 * before), so alternating and joint methods share an axis; epochs when a run did not log images seen.
 */
export function pseudoSpec(
  results: CompareResults,
  s: ReportSummary,
  task: string,
  dataset: string,
): TopLevelSpec | null {
  const rows: { method: string; epoch: number; x: number; kind: string; acc: number; n: number }[] = [];
  let byImages = true;
  let hiddenRejected = false;
  for (const m of s.methods) {
    const acc = new Map<string, { values: number[]; xs: number[] }>();
    for (const r of results.runs) {
      if (r.method !== m) continue;
      const imagesAt = new Map<number, number>();
      for (const c of r.curves) if (typeof c.imagesSeen === "number") imagesAt.set(c.epoch, c.imagesSeen);
      for (const p of runPseudoLabels(r)) {
        if (p.task !== task || p.dataset !== dataset) continue;
        if (!imagesAt.has(p.epoch)) byImages = false;
        const x = imagesAt.get(p.epoch - 1) ?? 0;
        const add = (kind: string, v: number | undefined) => {
          if (v === undefined || v === null || !Number.isFinite(v)) return;
          const key = `${kind}|${p.epoch}`;
          const a = acc.get(key) ?? { values: [], xs: [] };
          a.values.push(v);
          a.xs.push(x);
          acc.set(key, a);
        };
        add("all rows", p.acc);
        add("kept", p.keptAcc);
        // An accuracy over a sliver of the rows (soft interpolation rejects only the zero-weight rows, a
        // handful) would be drawn as boldly as the others; the table still gives it with its share.
        const rejectedShare = p.keptFraction === undefined ? 1 : 1 - p.keptFraction;
        if (rejectedShare >= MIN_REJECTED_SHARE) add("rejected", p.rejectedAcc);
        else hiddenRejected = true;
      }
    }
    for (const [key, { values, xs }] of acc) {
      const [kind, epoch] = key.split("|");
      rows.push({
        method: m,
        epoch: Number(epoch),
        x: mean(xs)!,
        kind,
        acc: mean(values)! * 100,
        n: values.length,
      });
    }
  }
  if (rows.length === 0) return null;
  if (!byImages) { for (const r of rows) r.x = r.epoch; }
  // The legend lists the kinds drawn; each channel's range follows KINDS' order.
  const present = KINDS.map((k) => rows.some((r) => r.kind === k));
  const kinds = KINDS.filter((_, i) => present[i]);
  const pick = <T>(range: T[]): T[] => range.filter((_, i) => present[i]);
  rows.sort((a, b) => a.method.localeCompare(b.method) || a.kind.localeCompare(b.kind) || a.epoch - b.epoch);
  // The shared encoding goes on the data layers only: the chance rule has no x and would inherit one.
  const encoding = {
    x: byImages
      ? {
        field: "x",
        type: "quantitative",
        title: "Training images seen per dataset",
        axis: IMAGES_AXIS,
      }
      : { field: "x", type: "quantitative", title: "Epoch", axis: { tickMinStep: 1 } },
    y: { field: "acc", type: "quantitative", title: "Pseudo-label accuracy (%)", scale: { zero: false } },
    color: {
      field: "method",
      type: "nominal",
      title: "Method",
      scale: methodScale(s, uniq(rows.map((r) => r.method))),
    },
    tooltip: [{ field: "method" }, { field: "kind" }, { field: "epoch" }, { field: "acc", format: ".2f" }, {
      field: "n",
    }],
  };
  // Chance = 1/K of the task's classes (the hidden truth's class shares on the unlabelled rows are not logged).
  const classes = s.columns.find((c) => c.task === task)?.classNames.length;
  const chance = classes ? 100 / classes : null;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `Pseudo-label accuracy vs hidden truth: ${task}/${dataset}`,
      subtitle: [
        `teacher's label on rows without ${/^[aeiou]/i.test(task) ? "an" : "a"} ${task} label; ${
          seedsAveraged(s.seeds.length)
        }${byImages ? "; x = images seen when labelled" : ""}`,
        ...(byImages && rows.some((r) => r.x === 0)
          ? ["at 0 images the labels come from the untrained model (at or below chance)"]
          : []),
        ...(hiddenRejected
          ? [
            `rejected rows: drawn only where they are at least ${
              MIN_REJECTED_SHARE * 100
            } % of the rows (table: kept share)`,
          ]
          : []),
      ],
    },
    width: 520,
    height: 300,
    data: { values: rows },
    layer: [
      ...chanceLayers(chance),
      {
        mark: { type: "line" },
        encoding: {
          ...encoding,
          // "all rows" is a wide pale band and "kept" a thin line, so a "kept" line that lies on its "all rows"
          // line (few rows rejected) still shows; one legend, since the three channels share field and title.
          strokeDash: {
            field: "kind",
            type: "ordinal",
            title: "Rows",
            scale: { domain: kinds, range: pick([[1, 0], [1, 0], [2, 3]]) },
          },
          strokeWidth: {
            field: "kind",
            type: "ordinal",
            title: "Rows",
            scale: { type: "ordinal", domain: kinds, range: pick([6, 1.8, 2]) },
          },
          opacity: {
            field: "kind",
            type: "ordinal",
            title: "Rows",
            scale: { type: "ordinal", domain: kinds, range: pick([0.45, 1, 1]) },
          },
          detail: { field: "kind" },
        },
      },
      // Points too: a teacher that labels once (one refresh) is a single point.
      { mark: { type: "point", filled: true, size: 24 }, encoding },
    ],
    config: CONFIG,
  } as TopLevelSpec;
}

/**
 * A grey dashed rule at chance (percent) across the plot with its value written above its right end; none for null.
 * The rule takes the data layers' y scale, so a chance below their values widens the axis to show it.
 */
function chanceLayers(chance: number | null): unknown[] {
  if (chance === null) return [];
  const y = { datum: chance, type: "quantitative" as const };
  // One datum of its own: on the plot's data the rule and its text would be drawn once per row.
  const data = { values: [{}] };
  return [
    { data, mark: { type: "rule", color: "#888", strokeDash: [5, 4] }, encoding: { y } },
    {
      data,
      // At the right end: at the left every teacher's first labels (untrained, near chance) cross the line.
      mark: {
        type: "text",
        align: "right",
        baseline: "bottom",
        x: "width",
        dx: -4,
        dy: -3,
        fontSize: 10,
        color: "#666",
      },
      encoding: { y, text: { value: `chance (1/K) ${chance.toFixed(1)} %` } },
    },
  ];
}

/** Confusion matrix of a method on a column, summed over its seeds. */
export function summedConfusion(
  results: CompareResults,
  method: string,
  col: Column,
): { matrix: number[][]; seeds: number } | null {
  let matrix: number[][] | null = null;
  let seeds = 0;
  for (const r of results.runs) {
    if (r.method !== method) continue;
    const t = r.results.find((x) => x.task === col.task && x.dataset === col.dataset);
    if (!t) continue;
    if (t.classNames.length !== col.classNames.length) {
      throw new RangeError(
        `${method} seed ${r.seed}: ${col.key} has ${t.classNames.length} classes, other runs ${col.classNames.length}`,
      );
    }
    matrix ??= t.confusion.map((row) => row.map(() => 0));
    t.confusion.forEach((row, i) => row.forEach((v, j) => (matrix![i][j] += v)));
    seeds++;
  }
  return matrix ? { matrix, seeds } : null;
}

/**
 * Each method's paired difference to the reference per column, with its 95 % intervals: the paired t over
 * seeds (thick) and the bootstrap over test rows (thin), as the report's calls read them; null without
 * contrasts. The accuracies' own ± std (test_accuracy) mixes in what all methods share on a seed.
 */
export function differencesSpec(s: ReportSummary, contrasts: Contrast[]): TopLevelSpec | null {
  const pp = (v: number | null) => v === null ? null : v * 100;
  const rows = contrasts.filter((c) => c.diffMean !== null).map((c) => ({
    column: c.column,
    method: c.method,
    diff: pp(c.diffMean),
    tLo: pp(c.ci95Low),
    tHi: pp(c.ci95High),
    bLo: pp(c.bootCi95Low),
    bHi: pp(c.bootCi95High),
    call: c.call,
  }));
  if (rows.length === 0 || s.baseline === null) return null;
  const methods = s.methods.filter((m) => rows.some((r) => r.method === m));
  const y = { field: "method", type: "nominal" as const, title: null, sort: methods };
  const color = { field: "method", type: "nominal" as const, scale: methodScale(s), legend: null };
  // Few ticks: at vega's default a panel's labels collide and every other one is dropped, which could drop the
  // 0 that every call is read against.
  const x = {
    type: "quantitative" as const,
    title: `Difference to ${s.baseline} (pp)`,
    axis: { tickCount: 5, labelOverlap: "greedy" as const },
  };
  return methodPanels(s, rows, {
    text: `Paired difference to ${s.baseline}`,
    subtitle:
      `95 % intervals: thick = paired t over ${s.seeds.length} seed${s.seeds.length === 1 ? "" : "s"}` +
      `${s.seeds.length < 2 ? " (none with one seed)" : ""}, thin = bootstrap over test rows; ` +
      "a call needs both on one side of 0",
  }, [
    { mark: { type: "rule", color: "#888" }, encoding: { x: { datum: 0, ...x } } },
    {
      transform: [{ filter: "datum.bLo != null" }],
      mark: { type: "rule", strokeWidth: 1.5 },
      encoding: { y, x: { field: "bLo", ...x }, x2: { field: "bHi" }, color },
    },
    {
      transform: [{ filter: "datum.tLo != null" }],
      mark: { type: "rule", strokeWidth: 5, opacity: 0.45 },
      encoding: { y, x: { field: "tLo", ...x }, x2: { field: "tHi" }, color },
    },
    {
      mark: { type: "point", filled: true, size: 70 },
      encoding: { y, x: { field: "diff", ...x }, color },
    },
  ]);
}

/** One panel per column, one row per method (in the summary's order), with the given layers. */
function methodPanels(
  s: ReportSummary,
  rows: Record<string, unknown>[],
  title: { text: string; subtitle: string },
  layer: unknown[],
): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: rows },
    facet: { column: { field: "column", type: "nominal", title: null, sort: s.columns.map((c) => c.key) } },
    spec: { width: 260, height: { step: 26 }, layer },
    resolve: { scale: { x: "independent" } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Render every figure into `<outDir>/figures/` and return what was written. */
export async function writeFigures(
  results: CompareResults,
  s: ReportSummary,
  outDir: string,
  options: FigureOptions & { contrasts?: Contrast[] } = {},
): Promise<FigureRef[]> {
  const png = options.png ?? true;
  const pngFont = png ? findFont(options.fontFile) : null;
  const fontFile = pngFont ?? existingFont(options.fontFile);
  const refs: FigureRef[] = [];
  const emit = async (name: string, spec: TopLevelSpec, ref: Omit<FigureRef, "svg" | "png">) => {
    const svg = await renderSvg(spec, { fontFile: fontFile ?? null });
    const svgPath = `figures/${name}.svg`;
    await writeFileAtomic(join(outDir, svgPath), svg);
    let pngPath: string | null = null;
    if (pngFont !== null) {
      pngPath = `figures/${name}.png`;
      await writeFileAtomic(
        join(outDir, pngPath),
        await svgToPng(svg, { fontFile: pngFont, scale: options.pngScale }),
      );
    }
    refs.push({ ...ref, svg: svgPath, png: pngPath });
  };

  await emit("test_accuracy", summarySpec(s), { kind: "summary", title: "Test accuracy per method" });
  const diffs = differencesSpec(s, options.contrasts ?? []);
  if (diffs) {
    await emit("differences", diffs, { kind: "differences", title: `Paired difference to ${s.baseline}` });
  }
  for (const col of s.columns) {
    const spec = curvesSpec(results, s, col);
    if (spec) {
      await emit(`curves_${slug(col.key)}`, spec, {
        kind: "curves",
        title: `Validation accuracy: ${col.key}`,
        column: col.key,
      });
    }
  }
  const pseudoKeys = new Set<string>();
  for (const r of results.runs) for (const p of runPseudoLabels(r)) pseudoKeys.add(`${p.task}/${p.dataset}`);
  for (const key of pseudoKeys) {
    const [task, dataset] = key.split("/");
    const spec = pseudoSpec(results, s, task, dataset);
    if (spec) {
      await emit(`pseudo_${slug(key)}`, spec, {
        kind: "pseudo",
        title: `Pseudo-label accuracy: ${key}`,
        column: key,
      });
    }
  }
  for (const col of s.columns) {
    for (const m of s.methods) {
      const c = summedConfusion(results, m, col);
      if (!c) continue;
      const acc = findCell(s, m, col);
      const sub = `test set, summed over ${c.seeds} seed${c.seeds === 1 ? "" : "s"}; accuracy ${
        acc.mean === null ? "—" : (acc.mean * 100).toFixed(2)
      }%; rows = true class`;
      await emit(
        `confusion_${slug(m)}_${slug(col.key)}`,
        confusionSpec(`${m}: ${col.key}`, sub, classDisplayNames(col.task, col.classNames), c.matrix),
        {
          kind: "confusion",
          title: `${m}: ${col.key}`,
          method: m,
          column: col.key,
        },
      );
    }
  }
  return refs;
}
