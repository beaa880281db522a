/**
 * The run directory's epoch log: `log.csv`, one row per outer epoch, columns named
 * `task/dataset/split/metric`. Each row is appended and flushed (fsync) as soon as the epoch ends, and a
 * resume truncates rows written after the checkpoint it continues from.
 *
 * The header grows when a row brings a column the log has not seen (a statistic a label strategy, loss
 * term or schedule returns), so nothing a plugin reports is dropped: the file is rewritten once with
 * the wider header, earlier rows left empty in the new column. {@link readRunLog} is the one reader.
 * @module
 */
import { join } from "node:path";
import { parseCsv, stringifyCsv } from "../../core/csv.ts";
import { writeFileAtomic } from "../../core/fs.ts";

/** One epoch's metrics. */
export type LogRow = Record<string, number | string>;

/** The log file of a run directory. */
export function runLogPath(dir: string): string {
  return join(dir, "log.csv");
}

/**
 * Read a run's `log.csv`: rows with numbers parsed (empty cells stay ""). `wholeLines` drops text after the
 * last newline: a row whose append a crash cut short.
 */
export async function readRunLog(
  dir: string,
  opts: { wholeLines?: boolean } = {},
): Promise<{ columns: string[]; rows: LogRow[] }> {
  const path = runLogPath(dir);
  const text = await Deno.readTextFile(path);
  const table = parseCsv(opts.wholeLines ? text.slice(0, text.lastIndexOf("\n") + 1) : text, path);
  const rows = table.rows.map((r) => {
    const out: LogRow = {};
    for (const [k, v] of Object.entries(r)) {
      out[k] = v === "" ? "" : (Number.isNaN(Number(v)) ? v : Number(v));
    }
    return out;
  });
  return { columns: table.columns, rows };
}

/** Append-only CSV log whose header grows with the columns its rows bring. */
export class RunLog {
  readonly dir: string;
  readonly path: string;
  #columns: string[];

  /** `columns`: the columns known up front, in display order (more are added as rows bring them). */
  constructor(dir: string, columns: string[]) {
    this.dir = dir;
    this.path = runLogPath(dir);
    this.#columns = ["epoch", ...columns.filter((c) => c !== "epoch")];
  }

  /** The current header. */
  get columns(): readonly string[] {
    return this.#columns;
  }

  /** Create the file with its header (overwrites). */
  async init(): Promise<void> {
    await writeFileAtomic(this.path, stringifyCsv(this.#columns, []));
  }

  /** Append one row and flush it to disk; a row with new columns widens the header first. */
  async append(row: LogRow): Promise<void> {
    const fresh = Object.keys(row).filter((k) => !this.#columns.includes(k)).sort();
    if (fresh.length > 0) {
      const rows = await this.read();
      this.#columns = [...this.#columns, ...fresh];
      await writeFileAtomic(this.path, stringifyCsv(this.#columns, rows));
    }
    const line = stringifyCsv(this.#columns, [row]).split("\n").slice(1).join("\n");
    const f = await Deno.open(this.path, { append: true, create: false });
    try {
      await f.write(new TextEncoder().encode(line));
      await f.sync();
    } finally {
      f.close();
    }
  }

  /** Read all rows (numbers parsed). */
  async read(): Promise<LogRow[]> {
    return (await readRunLog(this.dir)).rows;
  }

  /**
   * Keep only the rows of the first `done` epochs (epochs are 1-based; a resume continues after the
   * checkpoint of epoch `done`). The header becomes the file's own (it may have grown before the
   * interruption) widened by the columns known up front. A last row cut short by a crash is dropped.
   */
  async truncateAfter(done: number): Promise<number> {
    const { columns, rows } = await readRunLog(this.dir, { wholeLines: true });
    this.#columns = [...columns, ...this.#columns.filter((c) => !columns.includes(c))];
    const keep = rows.filter((r) => Number(r.epoch) <= done);
    await writeFileAtomic(this.path, stringifyCsv(this.#columns, keep));
    return rows.length - keep.length;
  }
}

/** Write a confusion matrix as CSV with class names (rows = true, columns = predicted). */
export async function writeConfusion(path: string, labels: string[], m: number[][]): Promise<void> {
  const columns = ["true\\pred", ...labels];
  const rows = m.map((row, i) => [labels[i], ...row]);
  await writeFileAtomic(path, stringifyCsv(columns, rows));
}
