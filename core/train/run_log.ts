/**
 * The run directory's epoch log: `log.csv`, one row per outer epoch, columns named
 * `task/dataset/split/metric`. Each row is appended and flushed (fsync) as soon as the epoch ends, and a
 * resume truncates rows written after the checkpoint it continues from.
 * @module
 */
import { join } from "node:path";
import { parseCsv, stringifyCsv } from "../csv.ts";
import { writeFileAtomic } from "../fs.ts";

/** One epoch's metrics. */
export type LogRow = Record<string, number | string>;

/** Append-only CSV log with a fixed header. */
export class RunLog {
  readonly path: string;
  readonly columns: string[];

  constructor(dir: string, columns: string[]) {
    this.path = join(dir, "log.csv");
    this.columns = ["epoch", ...columns.filter((c) => c !== "epoch")];
  }

  /** Create the file with its header (overwrites). */
  async init(): Promise<void> {
    await writeFileAtomic(this.path, stringifyCsv(this.columns, []));
  }

  /** Append one row and flush it to disk. */
  async append(row: LogRow): Promise<void> {
    const line = stringifyCsv(this.columns, [row]).split("\n").slice(1).join("\n");
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
    const table = parseCsv(await Deno.readTextFile(this.path), this.path);
    return table.rows.map((r) => {
      const out: LogRow = {};
      for (const [k, v] of Object.entries(r)) {
        out[k] = v === "" ? "" : (Number.isNaN(Number(v)) ? v : Number(v));
      }
      return out;
    });
  }

  /** Keep only rows with epoch < `epoch` (resume after a checkpoint of epoch-1). */
  async truncateFrom(epoch: number): Promise<number> {
    const rows = await this.read();
    const keep = rows.filter((r) => Number(r.epoch) < epoch);
    await writeFileAtomic(this.path, stringifyCsv(this.columns, keep));
    return rows.length - keep.length;
  }
}

/** Write a confusion matrix as CSV with class names (rows = true, columns = predicted). */
export async function writeConfusion(path: string, labels: string[], m: number[][]): Promise<void> {
  const columns = ["true\\pred", ...labels];
  const rows = m.map((row, i) => [labels[i], ...row]);
  await writeFileAtomic(path, stringifyCsv(columns, rows));
}
