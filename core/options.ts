/**
 * Option schemas and typed access to parsed options. The parser itself lives in `cli.ts`.
 * @module
 */

/** Value types a flag can have. */
export type OptionType = "boolean" | "int" | "float" | "string" | "enum" | "list";

/** A parsed option value. */
export type OptionValue = boolean | number | string | string[] | undefined;

/** Parsed options keyed by flag name (without dashes). */
export type Options = Record<string, OptionValue>;

/** One flag: its type, valid range and help, declared once. */
export interface OptionSpec {
  name: string;
  type: OptionType;
  default?: OptionValue;
  help: string;
  min?: number;
  max?: number;
  /** Allowed values for `enum` (and for each item of `list` when given). */
  choices?: readonly string[];
  /** Other spellings accepted on the command line (e.g. a readable alias). */
  aliases?: string[];
  /** Where the flag comes from: `common`, `seed` (the original scripts), or a plugin name. */
  group?: string;
}

/** Error for a bad flag or value; the CLI prints its message on one line and exits 2. */
export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

/** Read a number option (throws if it is not a number). */
export function num(o: Options, key: string): number {
  const v = o[key];
  if (typeof v !== "number") throw new OptionError(`--${key}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Read a boolean option; undefined counts as false (as in the original scripts). */
export function bool(o: Options, key: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new OptionError(`--${key}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** Read a string option (throws if absent). */
export function str(o: Options, key: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new OptionError(`--${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Read an optional string option. */
export function optStr(o: Options, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}
