/**
 * The markdown of the report's statistics sections: how to read the report, the chance levels, the
 * differences to the reference with their intervals, and the convergence flags.
 * @module
 */
import { ALPHA, type Contrast, type ReportAnalysis } from "./analysis.ts";
import type { CompareResults } from "./results.ts";
import { methodColumnGains } from "./convergence.ts";
import { MIN_SEEDS } from "./validity.ts";
import { fmtP, fmtPct, fmtPp, type ReportSummary } from "./table.ts";

/** Heading of the table of differences to the reference. */
export const DIFF_TABLE_HEADING = "## Difference to the reference (percentage points)";

/** Heading of the convergence table. */
export const CONVERGENCE_HEADING = "## Convergence: last-quarter gain of validation accuracy";

/** Heading of the chance-level table. */
export const CHANCE_HEADING = "### Chance level and held-out rows";

function mdTable(header: string[], rows: string[][], align?: ("l" | "r")[]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `| ${
      header.map((_, i) => ((align?.[i] ?? (i === 0 ? "l" : "r")) === "l" ? "---" : "---:")).join(" | ")
    } |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** `[+0.12, +3.40]` in percentage points, `—` when missing. */
export function fmtInterval(lo: number | null, hi: number | null): string {
  return lo === null || hi === null ? "—" : `[${fmtPp(lo)}, ${fmtPp(hi)}]`;
}

/** Whether the seeds of this comparison also regenerate its data (no fixed data seed recorded). */
function dataFixed(results: CompareResults): boolean {
  return typeof (results as unknown as { dataSeed?: unknown }).dataSeed === "number";
}

/** "How to read this report": what varies, what the intervals mean, the calls, the flags, chance. */
export function howToRead(results: CompareResults, s: ReportSummary, a: ReportAnalysis): string[] {
  const n = s.seeds.length;
  const ref = a.reference ?? "the reference";
  const varies = dataFixed(results)
    ? `The data is fixed (data seed ${
      (results as unknown as { dataSeed: number }).dataSeed
    }); each training seed ` +
      `changes only the training randomness: initialisation, batch order and augmentation.`
    : `Each seed changes the training randomness (initialisation, batch order, augmentation); with synthetic ` +
      `data and no fixed data seed it also regenerates the data, so the differences between seeds mix both.`;
  return [
    `- **What varies**: ${varies} Every method runs with the same ${n === 1 ? "seed" : `${n} seeds`} (${
      s.seeds.join(", ")
    }), so each method is compared with ${ref} seed by seed (paired).`,
    `- **Intervals**: the *paired t* interval is the 95 % confidence interval of the mean per-seed difference to ${ref} ` +
    `(mean ± t₀.₉₇₅,ₙ₋₁ · sd/√n over the n seeds); it covers training noise and needs ≥ 2 seeds. ` +
    `The *bootstrap* interval resamples test rows (${a.settings.resamples} resamples, the same rows for both methods, ` +
    `difference averaged over the seeds); it covers test-set sampling noise with the trained models held fixed.`,
    `- **Calls**: a method is *better* or *worse* than ${ref} on a column only when both intervals lie on one side of zero; ` +
    `otherwise the report says **cannot tell**. p (Holm) corrects the paired-t p-values for the ${a.contrasts.length} ` +
    `contrasts with ${ref}; MDD is the smallest true difference this design detects at α ${a.settings.alpha} (two-sided) ` +
    `with power ${a.settings.power}. The goal is every paired-t half-width at most ${
      fmtPct(a.halfWidth.goal)
    } pp.`,
    `- **Still improving**: a run whose mean validation accuracy in the last quarter of its training budget (images seen) ` +
    `is more than ${fmtPct(a.settings.stillImproving)} pp above the quarter before had not plateaued: ` +
    `its numbers rank methods by how fast they learn as much as by where they end.`,
    `- **Validity**: the verdict opens by saying whether these numbers can be cited. Four checks: at least ` +
    `${MIN_SEEDS} seeds; ${ref} at its plateau (its last-quarter gain, averaged over the seeds, at most ${
      fmtPct(a.settings.stillImproving)
    } pp on every column: one run can cross the line in the noise of a flat curve); every paired-t half-width within ` +
    `the goal; every planned run finished. Other methods still improving on average are named there, not failed: ` +
    `the budget is the same for every method, and how far a method gets within it is part of the comparison.`,
    `- **Chance**: each column's chance level is the majority-class share of its test set (what always predicting ` +
    `the most frequent class scores) and 1/K for K classes; accuracies near it mean the model learned little.`,
    ...poseLabelNote(results),
  ];
}

/**
 * The synthetic pair's annotator's yaw error, when the comparison recorded one above zero: it sets a ceiling on
 * pose accuracy that a reader would otherwise take for weak models.
 */
function poseLabelNote(results: CompareResults): string[] {
  const deg = results.budget.yaw_label_noise_deg;
  if (typeof deg !== "number" || !(deg > 0)) return [];
  return [
    `- **Pose labels**: the synthetic pair's pose labels, and the hidden pose truth the teachers are scored on, bin ` +
    `the head's yaw plus an annotator's error of std ${deg} deg (docs/data.md), as real pose labels are fitted, not ` +
    `exact: near a bin edge the label and the image disagree, so no model reaches 100 % on pose.`,
  ];
}

/** Chance levels and held-out row counts per column. */
export function chanceTable(s: ReportSummary, a: ReportAnalysis): string {
  const cols = s.columns.map((c) => a.chance.find((x) => x.column === c.key)!);
  const range = (lo: number | null, hi: number | null) =>
    lo === null || hi === null ? "—" : lo === hi ? String(lo) : `${lo}–${hi}`;
  return mdTable(["", ...s.columns.map((c) => c.key)], [
    ["Chance: majority class of the test set (%)", ...cols.map((c) => fmtPct(c.majority))],
    ["Chance: 1/K (%)", ...cols.map((c) => fmtPct(c.uniform))],
    ["Labelled test rows", ...cols.map((c) => range(c.nTestMin, c.nTestMax))],
    ["Labelled validation rows", ...cols.map((c) => range(c.nValMin, c.nValMax))],
  ]);
}

/** The differences to the reference: one row per method × column. */
export function diffTable(a: ReportAnalysis): string {
  return contrastTable(a.contrasts, { who: (c) => c.method, header: "Method", holm: true });
}

/**
 * The proposed method against each other method (the paper's claim): proposed − other, with the same
 * intervals as the reference table and no Holm column (the claim is not a family the report corrects).
 */
export function claimTable(a: ReportAnalysis): string {
  return contrastTable(a.claimContrasts, { who: (c) => c.other, header: "Other method", holm: false });
}

function contrastTable(
  contrasts: Contrast[],
  opts: { who: (c: Contrast) => string; header: string; holm: boolean },
): string {
  const rows = contrasts.map((c) => [
    opts.who(c),
    c.column,
    fmtPp(c.diffMean),
    fmtInterval(c.ci95Low, c.ci95High),
    fmtInterval(c.bootCi95Low, c.bootCi95High),
    c.p === null ? "—" : fmtP(c.p, ALPHA),
    ...(opts.holm ? [c.pHolm === null ? "—" : fmtP(c.pHolm, ALPHA)] : []),
    c.minDetectable === null ? "—" : fmtPct(c.minDetectable),
    c.call === "cannot tell"
      ? "cannot tell"
      : `**${c.call}**${opts.holm && c.pHolm !== null && c.pHolm >= ALPHA ? " (not after Holm)" : ""}`,
  ]);
  return mdTable(
    [
      opts.header,
      "Task/dataset",
      "Diff (pp)",
      "95 % CI, paired t",
      "95 % CI, bootstrap",
      "p",
      ...(opts.holm ? ["p (Holm)"] : []),
      "MDD (pp)",
      "Reads",
    ],
    rows,
    ["l", "l", "r", "r", "r", "r", ...(opts.holm ? ["r" as const] : []), "r", "l"],
  );
}

/** Per method × column: mean last-quarter gain over seeds and how many seeds are still improving. */
export function convergenceTable(s: ReportSummary, a: ReportAnalysis): string {
  const gains = methodColumnGains(a.convergence, s.methods, s.columns);
  const rows = s.methods.map((m) => {
    const runs = a.convergence.filter((r) => r.method === m);
    return [
      m,
      ...s.columns.map((col) => {
        const g = gains.find((x) => x.method === m && x.task === col.task && x.dataset === col.dataset);
        if (g === undefined) return "—";
        if (g.meanGain === null) return "too few points";
        const tail = g.checked < g.runs ? `, ${g.runs - g.checked} unchecked` : "";
        const text = `${fmtPp(g.meanGain)} (${g.improving}/${g.checked} improving${tail})`;
        return g.improving > 0 ? `**${text}**` : text;
      }),
      `${runs.filter((r) => r.stillImproving === true).length}/${runs.length}${
        runs.some((r) => r.stillImproving === null)
          ? ` (${runs.filter((r) => r.stillImproving === null).length} unchecked)`
          : ""
      }`,
    ];
  });
  return mdTable(["Method", ...s.columns.map((c) => c.key), "Runs still improving"], rows);
}
