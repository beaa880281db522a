/**
 * The verdict section, generated from the numbers only: which methods beat the baseline on which
 * column and whether by more than the seed spread, and whether the proposed method beats every other
 * method on every column (the paper's claim).
 * @module
 */
import { type PairedDiff, pairedDiff } from "./stats.ts";
import {
  type Column,
  findCell,
  fmtP,
  fmtPct,
  fmtPp,
  fmtSigned,
  PCT_DECIMALS,
  type ReportSummary,
} from "./table.ts";
import type { CompareResults } from "./results.ts";

/** One method's standing against another on one column. */
export interface Comparison {
  method: string;
  other: string;
  column: string;
  /** Difference of the seed means (fraction). */
  meanDiff: number;
  /** Paired per-seed differences method − other. */
  paired: PairedDiff;
  /** True when |mean paired difference| > its std; null when there is no spread (fewer than 2 pairs). */
  exceedsSpread: boolean | null;
}

/** The paper's claim checked on one column. */
export interface ClaimColumn {
  column: string;
  /** The proposed method has the highest mean of every method. */
  beatsAll: boolean;
  /** Methods whose mean is at least the proposed method's. */
  notBeaten: string[];
  /** Methods it beats in the mean, but not by more than the seed spread. */
  withinSpread: string[];
}

/** The structured verdict (also written to results.json). */
export interface Verdict {
  seeds: number[];
  spreadAvailable: boolean;
  /** Every (method, column) where a method's mean is above the baseline's. */
  beatsBaseline: Comparison[];
  claim: {
    proposed: string | null;
    /** null when the proposed method or any other method is missing. */
    holdsInMeans: boolean | null;
    /** Holds in the means and every margin exceeds the seed spread (null without spread). */
    holdsBeyondSpread: boolean | null;
    columns: ClaimColumn[];
  };
  /** The markdown bullet lines of the section. */
  lines: string[];
}

function seedValues(s: ReportSummary, method: string, col: Column): Map<number, number> {
  const c = findCell(s, method, col, "acc");
  return new Map(c.seeds.map((seed, i) => [seed, c.values[i]]));
}

function compare(s: ReportSummary, method: string, other: string, col: Column): Comparison | null {
  const a = findCell(s, method, col, "acc");
  const b = findCell(s, other, col, "acc");
  if (a.mean === null || b.mean === null) return null;
  const paired = pairedDiff(seedValues(s, method, col), seedValues(s, other, col));
  const exceeds = paired.std === null || paired.mean === null ? null : Math.abs(paired.mean) > paired.std;
  return { method, other, column: col.key, meanDiff: a.mean - b.mean, paired, exceedsSpread: exceeds };
}

function describeDiff(c: Comparison): string {
  const p = c.paired;
  if (p.n === 0) return `${fmtPp(c.meanDiff)} pp in the means, no seed in common`;
  const body = p.std === null
    ? `${fmtPp(p.mean)} pp`
    : `${fmtPp(p.mean)} ± ${(p.std * 100).toFixed(PCT_DECIMALS)} pp`;
  const spreadWord = c.exceedsSpread === null
    ? "no spread available"
    : c.exceedsSpread
    ? "exceeds the seed spread"
    : "within the seed spread";
  const pv = p.p === null ? "" : `, paired t-test p=${fmtP(p.p)}`;
  return `${body} (${p.wins}/${p.n} seeds up, ${spreadWord}${pv})`;
}

/** Build the verdict from the summary. */
export function buildVerdict(results: CompareResults, s: ReportSummary): Verdict {
  const lines: string[] = [];
  const spreadAvailable = s.seeds.length >= 2;
  const seedList = s.seeds.join(", ");
  lines.push(
    `- **Scope**: profile \`${results.profile}\`, model \`${results.model}\`, datasets ${
      results.datasets.map((d) => `\`${d}\``).join(", ")
    }; ${s.methods.length} methods; test split, checkpoint chosen on validation.`,
  );
  if (spreadAvailable) {
    lines.push(
      `- **Spread**: ${s.seeds.length} seeds (${seedList}). A difference *exceeds the seed spread* when the mean of the ` +
        `paired per-seed differences is larger than their standard deviation; the paired t-test has little power with ` +
        `${s.seeds.length} seeds, so read p-values as a rough guide.`,
    );
  } else {
    lines.push(
      `- **Spread**: only 1 seed (${seedList}): no spread is available, so none of the differences below can be told ` +
        `apart from seed-to-seed noise. Run more seeds before drawing conclusions.`,
    );
  }
  const incomplete = s.cells.filter((c) => c.metric === "acc" && c.n > 0 && c.n < s.seeds.length);
  if (incomplete.length > 0) {
    lines.push(
      `- **Missing runs**: ${
        incomplete.map((c) => `${c.method} on ${c.task}/${c.dataset} (${c.n}/${s.seeds.length} seeds)`).join(
          "; ",
        )
      }.`,
    );
  }

  const beatsBaseline: Comparison[] = [];
  if (s.baseline === null) {
    lines.push(
      "- **Against the baseline**: results.json names no reference method with runs, so no differences or Δm are computed.",
    );
  } else {
    const base = s.baseline;
    for (const col of s.columns) {
      const cmp = s.methods.filter((m) => m !== base).map((m) => compare(s, m, base, col)).filter((
        c,
      ): c is Comparison => c !== null);
      if (cmp.length === 0) continue;
      const up = cmp.filter((c) => c.meanDiff > 0).sort((a, b) => b.meanDiff - a.meanDiff);
      const down = cmp.filter((c) => c.meanDiff <= 0).map((c) => c.method);
      beatsBaseline.push(...up);
      const upText = up.length === 0
        ? `no method beats ${base}`
        : `beat ${base}: ${up.map((c) => `${c.method} ${describeDiff(c)}`).join("; ")}`;
      const downText = down.length === 0 ? "" : `. Not above ${base}: ${down.join(", ")}`;
      lines.push(`- **${col.key}** (${base} ${fmtPct(findCell(s, base, col).mean)}%): ${upText}${downText}.`);
    }
    const dms = s.methodStats.filter((m) => m.method !== base && m.deltaMPct !== null);
    if (dms.length > 0) {
      const best = dms.reduce((a, b) => (b.deltaMPct! > a.deltaMPct! ? b : a));
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

  const claim = checkClaim(s);
  lines.push(...claim.lines);
  return {
    seeds: s.seeds,
    spreadAvailable,
    beatsBaseline,
    claim: {
      proposed: s.proposed,
      holdsInMeans: claim.holdsInMeans,
      holdsBeyondSpread: claim.holdsBeyondSpread,
      columns: claim.columns,
    },
    lines,
  };
}

function checkClaim(s: ReportSummary): {
  holdsInMeans: boolean | null;
  holdsBeyondSpread: boolean | null;
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
      holdsBeyondSpread: null,
      columns: [],
      lines: [
        `- **The paper's claim** (the proposed method beats every baseline on every task): not checked, ${why}.`,
      ],
    };
  }
  const columns: ClaimColumn[] = [];
  const lines: string[] = [];
  let complete = true;
  for (const col of s.columns) {
    const mine = findCell(s, p, col);
    if (mine.mean === null) {
      complete = false;
      continue;
    }
    const cmps = others.map((o) => compare(s, p, o, col)).filter((c): c is Comparison => c !== null);
    if (cmps.length < others.length) complete = false;
    const notBeaten = cmps.filter((c) => c.meanDiff <= 0).map((c) => c.other);
    const withinSpread = cmps.filter((c) => c.meanDiff > 0 && c.exceedsSpread !== true).map((c) => c.other);
    columns.push({ column: col.key, beatsAll: notBeaten.length === 0, notBeaten, withinSpread });
    const runnerUp = cmps.filter((c) => c.meanDiff > 0).sort((a, b) => a.meanDiff - b.meanDiff)[0];
    if (notBeaten.length === 0) {
      lines.push(
        `  - ${col.key}: ${p} has the highest mean (${
          fmtPct(mine.mean)
        }%); margin over the runner-up ${runnerUp.other}: ${describeDiff(runnerUp)}.${
          withinSpread.length ? ` Margins within the seed spread: ${withinSpread.join(", ")}.` : ""
        }`,
      );
    } else {
      const better = notBeaten.map((o) => `${o} ${fmtPct(findCell(s, o, col).mean)}%`).join(", ");
      lines.push(`  - ${col.key}: ${p} ${fmtPct(mine.mean)}% is not the best; at least as high: ${better}.`);
    }
  }
  const holdsInMeans = complete && columns.length > 0 ? columns.every((c) => c.beatsAll) : null;
  const spreadOk = s.seeds.length >= 2;
  const holdsBeyondSpread = holdsInMeans === null || !spreadOk
    ? null
    : holdsInMeans && columns.every((c) => c.withinSpread.length === 0);
  let head: string;
  if (holdsInMeans === null) head = `cannot be checked: ${p} or another method lacks a column`;
  else if (!holdsInMeans) {
    const lost = columns.filter((c) => !c.beatsAll).map((c) => c.column).join(", ");
    head = `**does not hold** in these results (${p} is not the best on ${lost})`;
  } else if (holdsBeyondSpread === null) {
    head = `holds in the means, but with 1 seed there is no spread to judge it`;
  } else if (holdsBeyondSpread) {
    head = `**holds**: ${p} has the highest mean on every column, each margin exceeding the seed spread`;
  } else head = `holds in the means only: some margins are within the seed spread`;
  return {
    holdsInMeans,
    holdsBeyondSpread,
    columns,
    lines: [`- **The paper's claim** (${p} beats every other method on every task): ${head}.`, ...lines],
  };
}
