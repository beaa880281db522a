/**
 * The verdict section, generated from the numbers only: which methods are better or worse than the
 * reference on which column (both 95 % intervals on one side of zero) and where the report cannot tell;
 * whether the intervals are as narrow as the 2 pp goal; how many runs were still improving; and whether
 * the proposed method beats every other method on every column (the paper's claim).
 * @module
 */
import { type Contrast, type ReportAnalysis, UPPER_BOUND_LEVEL, type WidestContrast } from "./analysis.ts";
import { fmtInterval } from "./sections.ts";
import {
  findCell,
  fmtP,
  fmtPct,
  fmtPctBeside,
  fmtPp,
  fmtSigned,
  PCT_DECIMALS,
  type ReportSummary,
} from "./table.ts";
import type { CompareResults } from "./results.ts";
import { RUN_DIR_JOIN } from "./run_paths.ts";
import { median } from "./stats.ts";
import { incompleteCells, judgeValidity, type Validity } from "./validity.ts";

/** The paper's claim checked on one column. */
export interface ClaimColumn {
  column: string;
  /** The proposed method has the highest mean of every method. */
  bestInMeans: boolean;
  /** Methods whose mean is at least the proposed method's. */
  notBeatenInMeans: string[];
  /** Methods the proposed method is measurably better than (both intervals above zero). */
  better: string[];
  /** Methods measurably better than the proposed method. */
  worse: string[];
  /** Methods the intervals cannot tell apart from it. */
  cannotTell: string[];
}

/** The structured verdict (also written to results.json). */
export interface Verdict {
  seeds: number[];
  /** At least two seeds: the paired-t intervals exist. */
  spreadAvailable: boolean;
  /** Contrasts with the reference, by call. */
  better: { method: string; column: string }[];
  worse: { method: string; column: string }[];
  cannotTell: { method: string; column: string }[];
  /** Contrasts whose Holm-adjusted p-value is below α. */
  holmSignificant: { method: string; column: string }[];
  /** Whether the numbers can be cited: the checks of {@link judgeValidity}. */
  validity: Validity;
  /** Runs still improving at the end of their budget, and runs checked. */
  stillImproving: { runs: number; checked: number; total: number };
  claim: {
    proposed: string | null;
    /** The proposed method has the highest mean on every column (null when it cannot be checked). */
    holdsInMeans: boolean | null;
    /**
     * `holds`: measurably better than every other method on every column; `does not hold`: some method is
     * measurably better on some column; `cannot tell`: neither; null when it cannot be checked.
     */
    status: "holds" | "does not hold" | "cannot tell" | null;
    columns: ClaimColumn[];
  };
  /** The markdown bullet lines of the section. */
  lines: string[];
}

const key = (c: Contrast) => ({ method: c.method, column: c.column });

/**
 * The seed plan at the spreads' upper confidence bound: a projection from the observed spread falls short about
 * half the time, and from few seeds the spread itself is unsure.
 */
function upperText(observed: number, upper: number | null, seeds: number): string {
  if (upper === observed) return "";
  const level = `${UPPER_BOUND_LEVEL * 100} %`;
  return `; that spread is estimated from ${seeds} seeds: ${
    upper === null ? "more than 10,000 seeds" : `${upper} seeds`
  } would meet it at the spreads' one-sided ${level} upper confidence bounds, a plan that reaches the goal at ` +
    `least ${level} of the time`;
}

/**
 * How many of the better/worse calls (made per contrast, on unadjusted intervals) hold after Holm, when some do
 * not: a reader who quotes a call line alone would otherwise read every call as significant.
 */
function callsAfterHolm(calls: Contrast[], holmSig: Contrast[]): string {
  const kept = calls.filter((c) => holmSig.includes(c)).length;
  if (kept === calls.length) return "";
  return `; the better/worse calls above are made per contrast on unadjusted intervals: ${kept} of ${calls.length} ` +
    "hold after Holm";
}

/**
 * The contrast that sets the seeds needed, with whose spread it inherits: the variance of a paired difference
 * is both sides' variances over seeds less twice their covariance, so the reference is named as the larger
 * part only when it is the noisier side and its variance alone is at least half the difference's.
 */
function widestText(w: WidestContrast, base: string): string {
  const own = w.methodStd === null || w.referenceStd === null
    ? ""
    : `; their own sd over seeds: ${base} ${fmtPct(w.referenceStd)} pp, ${w.method} ${
      fmtPct(w.methodStd)
    } pp${
      w.referenceStd > w.methodStd && w.referenceStd ** 2 >= w.diffStd ** 2 / 2
        ? `, so ${base}'s own spread is the larger part`
        : ""
    }`;
  return `the widest spread: ${w.method} − ${base} on ${w.column}, sd ${
    fmtPct(w.diffStd)
  } pp over seeds${own}`;
}

/** Which paired-t intervals are wider than the goal: all of them named when few, else a count. */
function overText(over: Contrast[], total: number, goal: number, base: string): string {
  if (over.length === 0) return "";
  const named = over.length <= 3
    ? `: ${
      over.map((c) =>
        // One wider interval is the largest, whose width the line has just given.
        `${c.method} − ${base} on ${c.column}${
          over.length === 1 ? "" : `, ${fmtPctBeside(c.ci95HalfWidth, goal)} pp`
        }`
      ).join("; ")
    }`
    : "";
  return ` (${over.length} of ${total} wider${named})`;
}

function describe(c: Contrast, alpha: number): string {
  const holm = c.pHolm === null
    ? ""
    : `, Holm p${c.pHolm < 0.001 ? " " : "="}${fmtP(c.pHolm, alpha)}${
      c.call !== "cannot tell" && c.pHolm >= alpha ? ": not significant after Holm" : ""
    }`;
  return `${c.method} ${fmtPp(c.diffMean)} pp (t ${fmtInterval(c.ci95Low, c.ci95High)}, bootstrap ${
    fmtInterval(c.bootCi95Low, c.bootCi95High)
  }${holm})`;
}

/**
 * Budgets or test rows that differ between runs: a difference to the reference then mixes the method with
 * what it was given (a variant whose flags change the split trains on more rows and is scored on others).
 */
function unequalTerms(s: ReportSummary, a: ReportAnalysis): string[] {
  const lines: string[] = [];
  const ref = s.methodStats.find((m) => m.method === s.baseline);
  const refImages = ref?.imagesSeen.mean ?? null;
  if (ref && refImages) {
    const off = s.methodStats.filter((m) =>
      m.imagesSeen.mean !== null && Math.abs(m.imagesSeen.mean / refImages - 1) > 0.01
    );
    if (off.length > 0) {
      const images = (x: number) => Math.round(x).toLocaleString("en-US");
      lines.push(
        `- **Unequal budgets**: ${
          off.map((m) => `${m.method} saw ${images(m.imagesSeen.mean!)}`).join(", ")
        } training images per seed, against ${images(refImages)} for ${ref.method}: ` +
          `their differences mix the method with its budget.`,
      );
    }
  }
  const uneven = a.chance.filter((c) => c.nTestMin !== null && c.nTestMin !== c.nTestMax);
  if (uneven.length > 0) {
    lines.push(
      `- **Unequal test sets**: ${
        uneven.map((c) => `${c.column} has ${c.nTestMin} to ${c.nTestMax} labelled test rows`).join("; ")
      } across runs: they were scored on different rows, and the paired bootstrap needs the same rows.`,
    );
  }
  return lines;
}

/** Build the verdict from the summary and the statistics. */
export function buildVerdict(results: CompareResults, s: ReportSummary, a: ReportAnalysis): Verdict {
  const lines: string[] = [];
  const n = s.seeds.length;
  const spreadAvailable = n >= 2;
  lines.push(
    `- **Scope**: profile \`${results.profile}\`, model \`${results.model}\`, datasets ${
      results.datasets.map((d) => `\`${d}\``).join(", ")
    }; ${s.methods.length} methods; ${n} seed${n === 1 ? "" : "s"} (${s.seeds.join(", ")}${
      results.interim
        ? `; **interim**: ${n} of the ${results.interim.plannedSeeds.length} planned seeds, those whose runs have ` +
          "all finished"
        : ""
    }); test split, checkpoint chosen on validation.`,
  );
  const validity = judgeValidity(results, s, a);
  lines.push(validity.line);
  if (!spreadAvailable) {
    lines.push(
      `- **Only 1 seed**: no paired-t interval exists, so every contrast below reads *cannot tell*: the ` +
        `bootstrap alone measures test-set noise, not training noise. Run at least 3 seeds before drawing conclusions.`,
    );
  }
  const incomplete = incompleteCells(s);
  if (incomplete.length > 0) {
    lines.push(
      `- **Missing runs**: ${
        incomplete.map((c) => `${c.method} on ${c.task}/${c.dataset} (${c.n}/${n} seeds)`).join("; ")
      }.`,
    );
  }

  const better = a.contrasts.filter((c) => c.call === "better");
  const worse = a.contrasts.filter((c) => c.call === "worse");
  const cannot = a.contrasts.filter((c) => c.call === "cannot tell");
  const holmSig = a.contrasts.filter((c) => c.pHolm !== null && c.pHolm < a.settings.alpha);
  if (s.baseline === null) {
    lines.push(
      "- **Against the reference**: results.json names no reference method with runs, so no differences, " +
        "intervals or Δm are computed.",
    );
  } else {
    const base = s.baseline;
    for (const col of s.columns) {
      const cs = a.contrasts.filter((c) => c.column === col.key);
      if (cs.length === 0) continue;
      const part = (label: string, xs: Contrast[]) =>
        xs.length === 0
          ? []
          : [`${label}: ${
            xs.sort((x, y) => y.diffMean! - x.diffMean!).map((c) =>
              describe(c, a.settings.alpha)
            ).join("; ")
          }`];
      const tell = cs.filter((c) => c.call === "cannot tell").map((c) => c.method);
      const parts = [
        ...part(`better than ${base}`, cs.filter((c) => c.call === "better")),
        ...part(`worse than ${base}`, cs.filter((c) => c.call === "worse")),
        ...(tell.length ? [`cannot tell: ${tell.join(", ")}`] : []),
      ];
      lines.push(`- **${col.key}** (${base} ${fmtPct(findCell(s, base, col).mean)}%): ${parts.join("; ")}.`);
    }
    // Name the shorter side: the contrasts below α, or, when most are, the ones that are not.
    const named = (cs: Contrast[]) => cs.map((c) => `${c.method} on ${c.column}`).join(", ");
    const rest = a.contrasts.filter((c) => !holmSig.includes(c));
    lines.push(
      `- **Multiple comparisons**: ${
        rest.length === 0 && holmSig.length > 1 ? "all " : `${holmSig.length} of `
      }${a.contrasts.length} contrasts with ${base} have a Holm-adjusted p below ${a.settings.alpha}${
        holmSig.length === 0 || rest.length === 0
          ? ""
          : holmSig.length > rest.length
          ? `; not: ${named(rest)}`
          : ` (${named(holmSig)})`
      }${callsAfterHolm(better.concat(worse), holmSig)}.`,
    );
    const hw = a.halfWidth;
    if (hw.maxT === null) {
      lines.push(
        `- **Precision**: no paired-t interval (fewer than 2 seeds), so the ${
          fmtPct(hw.goal)
        } pp half-width goal ` +
          `cannot be met${
            hw.maxBoot === null ? "" : `; largest bootstrap half-width ${fmtPct(hw.maxBoot)} pp`
          }.`,
      );
    } else {
      const medMdd = median(a.contrasts.map((c) => c.minDetectable).filter((x): x is number => x !== null));
      const over = a.contrasts.filter((c) => c.ci95HalfWidth !== null && c.ci95HalfWidth > hw.goal);
      lines.push(
        `- **Precision**: largest half-width ${fmtPctBeside(hw.maxT, hw.goal)} pp (paired t over ${n} seeds)${
          hw.maxBoot === null ? "" : ` and ${fmtPct(hw.maxBoot)} pp (bootstrap over test rows)`
        }: the goal (every paired-t half-width at most ${fmtPct(hw.goal)} pp) is **${
          hw.met ? "met" : "not met"
        }**${overText(over, a.contrasts.length, hw.goal, base)}${
          hw.met || hw.seedsNeeded === null
            ? ""
            : `; if each contrast's spread over seeds stayed as observed, ${hw.seedsNeeded} seeds would meet it${
              hw.widest ? ` (${widestText(hw.widest, base)})` : ""
            }${upperText(hw.seedsNeeded, hw.seedsNeededUpper, n)}`
        }.${medMdd === null ? "" : ` Median minimum detectable difference ${fmtPct(medMdd)} pp.`}`,
      );
    }
    const dms = s.methodStats.filter((m) => m.method !== base && m.deltaMPct !== null);
    if (dms.length > 0) {
      const best = dms.reduce((x, y) => (y.deltaMPct! > x.deltaMPct! ? y : x));
      const positive = dms.filter((m) => m.deltaMPct! > 0).map((m) => m.method);
      const ps = best.deltaMPerSeed;
      const spreadText = ps && ps.std !== null
        ? ` (per seed ${fmtSigned(ps.mean)} ± ${ps.std.toFixed(PCT_DECIMALS)})`
        : "";
      lines.push(
        `- **Δm**: highest ${best.method} ${fmtSigned(best.deltaMPct)}%${spreadText}; positive Δm: ${
          positive.length ? positive.join(", ") : "none"
        }.`,
      );
    }
  }

  const conv = a.convergence;
  const improving = conv.filter((r) => r.stillImproving === true);
  const checked = conv.filter((r) => r.stillImproving !== null);
  if (conv.length > 0) {
    const byMethod = [...new Set(improving.map((r) => r.method))].map((m) =>
      `${m} ${improving.filter((r) => r.method === m).length}/${conv.filter((r) => r.method === m).length}`
    );
    const unchecked = conv.length - checked.length;
    lines.push(
      `- **Convergence**: ${improving.length} of ${conv.length} runs still improving (last-quarter gain > ${
        fmtPct(a.settings.stillImproving)
      } pp${
        results.runs.some((r) => r.runDir.includes(RUN_DIR_JOIN))
          ? `; ${s.baseline}'s single-task runs of a seed count as one`
          : ""
      })${byMethod.length ? `: ${byMethod.join(", ")}` : ""}${
        unchecked
          ? `; ${unchecked} run${
            unchecked === 1 ? "" : "s"
          } could not be checked (needs a validation point in each ` +
            `of the last two quarters of the budget)`
          : ""
      }.${
        improving.length
          ? " Their budgets may end before a plateau; a gain near the threshold is within the epoch-to-epoch " +
            "noise of validation accuracy."
          : ""
      }`,
    );
  }
  const small = a.chance.filter((c) => c.nValMin !== null && c.nValMin < a.settings.minValRows);
  if (small.length > 0) {
    lines.push(
      `- **Small validation sets**: ${
        small.map((c) => `${c.column} has ${c.nValMin} labelled validation rows`).join("; ")
      } (fewer than ${a.settings.minValRows}): checkpoint choice and the convergence check are noisy.`,
    );
  }

  lines.push(...unequalTerms(s, a));

  const claim = checkClaim(s, a);
  lines.push(...claim.lines);
  return {
    seeds: s.seeds,
    spreadAvailable,
    better: better.map(key),
    worse: worse.map(key),
    cannotTell: cannot.map(key),
    holmSignificant: holmSig.map(key),
    validity: validity.validity,
    stillImproving: { runs: improving.length, checked: checked.length, total: conv.length },
    claim: {
      proposed: s.proposed,
      holdsInMeans: claim.holdsInMeans,
      status: claim.status,
      columns: claim.columns,
    },
    lines,
  };
}

function checkClaim(s: ReportSummary, a: ReportAnalysis): {
  holdsInMeans: boolean | null;
  status: Verdict["claim"]["status"];
  columns: ClaimColumn[];
  lines: string[];
} {
  const p = s.proposed;
  const others = s.methods.filter((m) => m !== p);
  if (p === null || others.length === 0) {
    const why = p === null
      ? "results.json names no proposed method with runs"
      : "no other method to compare with";
    return {
      holdsInMeans: null,
      status: null,
      columns: [],
      lines: [
        `- **The paper's claim** (the proposed method beats every other method on every task): not checked, ${why}.`,
      ],
    };
  }
  const columns: ClaimColumn[] = [];
  const lines: string[] = [];
  let complete = true;
  for (const col of s.columns) {
    const mine = findCell(s, p, col);
    const cs = a.claimContrasts.filter((c) => c.column === col.key);
    if (mine.mean === null || cs.length < others.length) {
      complete = false;
      if (mine.mean === null) continue;
    }
    const notBeaten = others.filter((o) => {
      const m = findCell(s, o, col).mean;
      return m !== null && m >= mine.mean!;
    });
    const c: ClaimColumn = {
      column: col.key,
      bestInMeans: notBeaten.length === 0,
      notBeatenInMeans: notBeaten,
      better: cs.filter((x) => x.call === "better").map((x) => x.other),
      worse: cs.filter((x) => x.call === "worse").map((x) => x.other),
      cannotTell: cs.filter((x) => x.call === "cannot tell").map((x) => x.other),
    };
    columns.push(c);
    const means = c.bestInMeans
      ? `highest mean (${fmtPct(mine.mean)}%)`
      : `${fmtPct(mine.mean)}%, not the highest mean (at least as high: ${
        notBeaten.map((o) => `${o} ${fmtPct(findCell(s, o, col).mean)}%`).join(", ")
      })`;
    const parts = [
      c.better.length ? `measurably better than ${c.better.join(", ")}` : "",
      c.worse.length ? `measurably worse than ${c.worse.join(", ")}` : "",
      c.cannotTell.length ? `cannot tell against ${c.cannotTell.join(", ")}` : "",
    ].filter((x) => x !== "");
    lines.push(`  - ${col.key}: ${p} ${means}; ${parts.join("; ")}.`);
  }
  const holdsInMeans = complete && columns.length > 0 ? columns.every((c) => c.bestInMeans) : null;
  let status: Verdict["claim"]["status"] = null;
  if (complete && columns.length > 0) {
    if (columns.some((c) => c.worse.length > 0)) status = "does not hold";
    else if (columns.every((c) => c.better.length === others.length)) status = "holds";
    else status = "cannot tell";
  }
  let head: string;
  if (status === null) head = `cannot be checked: ${p} or another method lacks a column`;
  else if (status === "holds") {
    head =
      `**holds**: ${p} is measurably better than every other method on every column (both intervals above zero)`;
  } else if (status === "does not hold") {
    const where = columns.filter((c) => c.worse.length > 0).map((c) =>
      `${c.worse.join(", ")} on ${c.column}`
    );
    head = `**does not hold**: measurably better than ${p}: ${where.join("; ")}`;
  } else if (s.seeds.length < 2) {
    head = `**cannot tell**: one seed gives no paired-t interval, so no difference is measured either way` +
      (holdsInMeans ? ` (${p} has the highest value everywhere on this seed)` : "");
  } else {
    head =
      `**cannot tell**: no method is measurably better than ${p}, but ${p} is not measurably better than ` +
      `every method on every column${holdsInMeans ? " (it has the highest mean everywhere)" : ""}`;
  }
  return {
    holdsInMeans,
    status,
    columns,
    lines: [
      `- **The paper's claim** (${p} beats every other method on every task; ${p} − other, same intervals, ` +
      `not Holm-corrected): ${head}.`,
      ...lines,
    ],
  };
}
