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
  /** The flag's name without dashes, snake_case (`--epoch` is `epoch`). */
  name: string;
  /** Value type; the parser converts and checks by it. */
  type: OptionType;
  /** Value when nothing sets it (entry tasks and presets may override it). */
  default?: OptionValue;
  /** One line of help, shown by `--help` and `deno task methods`. */
  help: string;
  /** Smallest accepted value (`int` and `float`). */
  min?: number;
  /** Largest accepted value (`int` and `float`). */
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
  /** An error whose message names the flag (or file) and what is allowed. */
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

/** Where a flag was declared, for conflict messages (a file such as `methods/sa_mtl.ts`). */
export interface DeclaredOption {
  spec: OptionSpec;
  source: string;
}

/** The parts of two declarations of one flag that must agree (help text may differ). */
function signature(s: OptionSpec): string {
  return JSON.stringify([s.type, s.default ?? null, s.min ?? null, s.max ?? null, s.choices ?? null]);
}

/**
 * Merge flag declarations from several sources into one schema. A flag declared twice must agree in
 * type, default, range and choices; otherwise the schema is ambiguous (one declaration would silently
 * win), so it is an error naming both sources.
 */
export function mergeDeclarations(declared: DeclaredOption[]): OptionSpec[] {
  const byName = new Map<string, DeclaredOption>();
  for (const d of declared) {
    const prev = byName.get(d.spec.name);
    if (!prev) {
      byName.set(d.spec.name, d);
      continue;
    }
    if (signature(prev.spec) !== signature(d.spec)) {
      throw new OptionError(
        `flag --${d.spec.name} is declared differently by ${prev.source} (${
          describeSpec(prev.spec)
        }) and ${d.source} (${describeSpec(d.spec)}); declare it once, or identically`,
      );
    }
  }
  return [...byName.values()].map((d) => d.spec);
}

function describeSpec(s: OptionSpec): string {
  const parts: string[] = [s.type];
  if (s.min !== undefined) parts.push(`min ${s.min}`);
  if (s.max !== undefined) parts.push(`max ${s.max}`);
  if (s.choices) parts.push(`choices ${s.choices.join("|")}`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(", ");
}

/** The spec of `name` in `specs` (a programming error if absent: every read flag is declared). */
function specOf(specs: readonly OptionSpec[], name: string): OptionSpec {
  const s = specs.find((x) => x.name === name);
  if (!s) throw new Error(`option --${name} is read but not declared`);
  return s;
}

/** Typed reads of options against their declarations (see {@link optionReader}). */
export interface OptionReader {
  /** A boolean flag (default: its declared default, else false). */
  bool(o: Options, name: string): boolean;
  /** A number flag, checked against its declared type and range. */
  num(o: Options, name: string): number;
  /** An enum flag, checked against its declared choices. */
  choice<T extends string>(o: Options, name: string): T;
}

/**
 * Typed reader over a plugin's own declarations: a missing value falls back to the declared default,
 * and a present one is checked against type and range (values from a config.json or a programmatic
 * caller do not pass through the command-line parser).
 */
export function optionReader(specs: readonly OptionSpec[]): OptionReader {
  return {
    bool(o: Options, name: string): boolean {
      const v = o[name] ?? specOf(specs, name).default ?? false;
      if (typeof v !== "boolean") {
        throw new OptionError(`--${name}: expected a boolean, got ${JSON.stringify(v)}`);
      }
      return v;
    },
    num(o: Options, name: string): number {
      const s = specOf(specs, name);
      const v = o[name] ?? s.default;
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new OptionError(`--${name}: expected a number, got ${JSON.stringify(v)}`);
      }
      if (s.type === "int" && !Number.isInteger(v)) {
        throw new OptionError(`--${name}: expected an integer, got ${v}`);
      }
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
        throw new OptionError(`--${name}: ${v} outside [${s.min ?? "-inf"}, ${s.max ?? "inf"}]`);
      }
      return v;
    },
    choice<T extends string>(o: Options, name: string): T {
      const s = specOf(specs, name);
      const v = o[name] ?? s.default;
      if (typeof v !== "string" || !s.choices?.includes(v)) {
        throw new OptionError(`--${name}: expected one of ${s.choices?.join("|")}, got ${JSON.stringify(v)}`);
      }
      return v as T;
    },
  };
}
