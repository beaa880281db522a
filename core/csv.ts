/**
 * The one CSV module (stands in for `@std/csv`): parse and stringify with the npm `csv-parse` /
 * `csv-stringify` packages. Switching back to `@std/csv` is a change here only.
 * @module
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";

/** A parsed CSV: header and rows as records keyed by column name. */
export interface CsvTable {
  columns: string[];
  rows: Record<string, string>[];
}

/** Error for a malformed CSV; the message names the file and row. */
export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CsvError";
  }
}

/** Parse CSV text with a header row. `file` only labels error messages. */
export function parseCsv(text: string, file = "<csv>"): CsvTable {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (e) {
    const m = e as { message?: string; lines?: number };
    throw new CsvError(`${file}: malformed CSV${m.lines ? ` near line ${m.lines}` : ""}: ${m.message}`);
  }
  if (records.length === 0) throw new CsvError(`${file}: empty CSV (no header row)`);
  const columns = records[0].map((c) => c.trim());
  const rows: Record<string, string>[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    if (rec.length !== columns.length) {
      throw new CsvError(
        `${file}: row ${
          r + 1
        } has ${rec.length} fields, the header has ${columns.length} (truncated or malformed row)`,
      );
    }
    const row: Record<string, string> = {};
    for (let c = 0; c < columns.length; c++) row[columns[c]] = rec[c];
    rows.push(row);
  }
  return { columns, rows };
}

/** Parse CSV text without a header: an array of string arrays. */
export function parseCsvRows(text: string, file = "<csv>", delimiter = ","): string[][] {
  try {
    return parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
      delimiter,
    }) as string[][];
  } catch (e) {
    throw new CsvError(`${file}: malformed CSV: ${(e as Error).message}`);
  }
}

/** Stringify rows with a header. */
export function stringifyCsv(columns: string[], rows: (Record<string, unknown> | unknown[])[]): string {
  const arr = rows.map((r) => Array.isArray(r) ? r : columns.map((c) => (r as Record<string, unknown>)[c]));
  return stringify(arr, { header: true, columns });
}
