/**
 * Command-line parsing under our own option schema (stands in for `@std/cli`; `node:util`
 * parseArgs cannot repair the seed README's malformed forms, so tokens are read here).
 *
 * Accepted: `--flag=value`, `--flag value`, bare boolean `--flag`, Python booleans `True`/`False`
 * (any case) and `1`/`0`, repeated list flags, and the seed README's two malformed forms (a bare
 * `distill_t=2`, and the fused `--is_pesudo=False--is_interpolation=False`), each read with a warning
 * that says how. Unknown flags and bad values are errors that name the flag, what was given and what
 * is allowed, with a did-you-mean.
 * @module
 */
import { distance } from "fastest-levenshtein";
import { OptionError, type Options, type OptionSpec, type OptionValue } from "../core/options.ts";
import { realDatasetName } from "../datasets/label_spaces.ts";

/** Result of {@link parseArgs}. */
export interface ParsedArgs {
  options: Options;
  positionals: string[];
  /** Repairs made while reading, one line each. */
  warnings: string[];
  /** Flags given explicitly on the command line (canonical names). */
  explicit: Set<string>;
}

const BOOL_TRUE = new Set(["true", "1", "yes"]);
const BOOL_FALSE = new Set(["false", "0", "no", "none"]);

/** Spelling variants users type for model names (dataset aliases are the datasets module's own). */
const MODEL_ALIASES: Record<string, string> = {
  "vgg_face": "vggFace",
  "vgg16": "vggFace",
  "minixception": "mini_xception",
  "mini-xception": "mini_xception",
};

/** The canonical value a spelling variant stands for (`fer+` is ferplus, `vgg16` vggFace), if any. */
function aliasOf(lower: string): string | undefined {
  return MODEL_ALIASES[lower] ?? realDatasetName(lower);
}

function specIndex(specs: OptionSpec[]): Map<string, OptionSpec> {
  const m = new Map<string, OptionSpec>();
  for (const s of specs) {
    m.set(s.name, s);
    for (const a of s.aliases ?? []) m.set(a, s);
  }
  return m;
}

/** Closest known flag name, for "did you mean". */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function allowedText(spec: OptionSpec): string {
  switch (spec.type) {
    case "boolean":
      return "True or False";
    case "int":
      if (spec.choices) return `one of ${spec.choices.join(", ")}`;
      return `an integer${rangeText(spec)}`;
    case "float":
      return `a number${rangeText(spec)}`;
    case "enum":
      return `one of ${spec.choices?.join(", ")}`;
    case "list":
      return spec.choices ? `a comma-separated list of ${spec.choices.join(", ")}` : "a comma-separated list";
    default:
      return "a non-empty string";
  }
}

function rangeText(spec: OptionSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` in [${spec.min}, ${spec.max}]`;
  if (spec.min !== undefined) return ` >= ${spec.min}`;
  if (spec.max !== undefined) return ` <= ${spec.max}`;
  return "";
}

function badValue(spec: OptionSpec, given: string): OptionError {
  return new OptionError(`--${spec.name}: got "${given}", expected ${allowedText(spec)}`);
}

function matchChoice(spec: OptionSpec, raw: string, warnings: string[]): string {
  const choices = spec.choices ?? [];
  let v = raw.trim();
  // The seed README writes `--dataset=SFEW[expw,ferplus]` to mean "one of these".
  const bracket = /^([^[\]]+)\[([^\]]*)\]$/.exec(v);
  if (bracket) {
    warnings.push(
      `--${spec.name}=${raw}: read "${bracket[1]}" (the brackets list alternatives: ${bracket[2]}; pass one)`,
    );
    v = bracket[1];
  }
  const lower = v.toLowerCase();
  const aliased = aliasOf(lower);
  for (const c of choices) {
    if (c.toLowerCase() === lower || (aliased !== undefined && c === aliased)) return c;
  }
  const hint = didYouMean(v, choices);
  throw new OptionError(
    `--${spec.name}: got "${raw}", expected ${allowedText(spec)}${hint ? ` (did you mean ${hint}?)` : ""}`,
  );
}

/** Convert one raw string to the flag's type, checking its range. */
export function coerceValue(spec: OptionSpec, raw: string, warnings: string[] = []): OptionValue {
  switch (spec.type) {
    case "boolean": {
      const l = raw.trim().toLowerCase();
      if (BOOL_TRUE.has(l)) return true;
      if (BOOL_FALSE.has(l)) return false;
      throw badValue(spec, raw);
    }
    case "int": {
      if (!/^[+-]?\d+$/.test(raw.trim())) throw badValue(spec, raw);
      const v = Number(raw);
      if (spec.choices && !spec.choices.includes(String(v))) throw badValue(spec, raw);
      checkRange(spec, v, raw);
      return v;
    }
    case "float": {
      const v = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(v)) throw badValue(spec, raw);
      checkRange(spec, v, raw);
      return v;
    }
    case "enum":
      return matchChoice(spec, raw, warnings);
    case "list": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) throw badValue(spec, raw);
      return spec.choices ? items.map((i) => matchChoice(spec, i, warnings)) : items;
    }
    default:
      if (raw.trim() === "") throw badValue(spec, raw);
      return raw;
  }
}

function checkRange(spec: OptionSpec, v: number, raw: string): void {
  if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
    throw badValue(spec, raw);
  }
}

/**
 * Parse command-line tokens against a schema. Values are typed and range-checked; defaults are NOT
 * applied here (see `resolveOptions`), so `explicit` tells what the user gave.
 */
export function parseArgs(args: string[], specs: OptionSpec[]): ParsedArgs {
  const index = specIndex(specs);
  const options: Options = {};
  const positionals: string[] = [];
  const warnings: string[] = [];
  const explicit = new Set<string>();
  const names = [...index.keys()];

  const set = (spec: OptionSpec, value: OptionValue) => {
    // Only list flags accumulate; a repeated scalar flag is ambiguous (which one wins?), so it is refused.
    if (explicit.has(spec.name) && spec.type !== "list") {
      throw new OptionError(
        `--${spec.name}: given more than once (${JSON.stringify(options[spec.name])}, then ${
          JSON.stringify(value)
        })`,
      );
    }
    explicit.add(spec.name);
    if (spec.type === "list") {
      const prev = options[spec.name];
      options[spec.name] = [...(Array.isArray(prev) ? prev : []), ...(value as string[])];
    } else {
      options[spec.name] = value;
    }
  };
  const lookup = (name: string, token: string): OptionSpec => {
    const spec = index.get(name);
    if (spec) return spec;
    const hint = didYouMean(name, names);
    throw new OptionError(`unknown flag --${name} in "${token}"${hint ? ` (did you mean --${hint}?)` : ""}`);
  };

  const queue = [...args];
  while (queue.length > 0) {
    const token = queue.shift()!;
    if (token === "--") {
      positionals.push(...queue.splice(0));
      break;
    }
    if (token.startsWith("--")) {
      const body = token.slice(2);
      const eq = body.indexOf("=");
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const spec = lookup(name, token);
      if (eq >= 0) {
        let value = body.slice(eq + 1);
        // Fused flags: `--is_pesudo=False--is_interpolation=False` (a missing space in the seed README).
        const fused = /^(.*?)--([A-Za-z_][A-Za-z0-9_]*)(=.*)?$/.exec(value);
        if (fused && index.has(fused[2])) {
          warnings.push(
            `"${token}": read as two flags "--${name}=${fused[1]}" and "--${fused[2]}${fused[3] ?? ""}"`,
          );
          value = fused[1];
          queue.unshift(`--${fused[2]}${fused[3] ?? ""}`);
        }
        set(spec, coerceValue(spec, value, warnings));
      } else if (spec.type === "boolean") {
        const next = queue[0];
        if (next !== undefined && !next.startsWith("--") && isBoolLiteral(next)) {
          queue.shift();
          set(spec, coerceValue(spec, next, warnings));
        } else {
          set(spec, true);
        }
      } else {
        const next = queue.shift();
        if (next === undefined || next.startsWith("--")) {
          throw new OptionError(`--${name}: missing value, expected ${allowedText(spec)}`);
        }
        set(spec, coerceValue(spec, next, warnings));
      }
      continue;
    }
    // A bare `distill_t=2` (no dashes) in the seed README means `--distill_t=2`.
    const bare = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(token);
    if (bare) {
      const spec = index.get(bare[1]);
      if (spec) {
        warnings.push(`"${token}" has no leading dashes: read as "--${token}"`);
        set(spec, coerceValue(spec, bare[2], warnings));
        continue;
      }
      const hint = didYouMean(bare[1], names);
      throw new OptionError(
        `unknown argument "${token}"${hint ? ` (did you mean --${hint}=${bare[2]}?)` : ""}`,
      );
    }
    positionals.push(token);
  }
  return { options, positionals, warnings, explicit };
}

function isBoolLiteral(s: string): boolean {
  const l = s.toLowerCase();
  return BOOL_TRUE.has(l) || BOOL_FALSE.has(l);
}

/**
 * Check one typed value (from a programmatic caller or a config file) against its declaration, as the
 * parser checks a command-line string: type, range and choices. The error names the flag.
 */
export function checkValue(spec: OptionSpec, value: OptionValue): void {
  const bad = () =>
    new OptionError(`--${spec.name}: got ${JSON.stringify(value)}, expected ${allowedText(spec)}`);
  switch (spec.type) {
    case "boolean":
      if (typeof value !== "boolean") throw bad();
      return;
    case "int":
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) throw bad();
      if (spec.type === "int" && !Number.isInteger(value)) throw bad();
      if (spec.choices && !spec.choices.includes(String(value))) throw bad();
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw bad();
      }
      return;
    case "enum":
      if (typeof value !== "string") throw bad();
      checkChoice(spec, value);
      return;
    case "list":
      if (!Array.isArray(value) || value.length === 0) throw bad();
      for (const item of value) {
        if (typeof item !== "string" || item.trim() === "") throw bad();
        if (spec.choices) checkChoice(spec, item);
      }
      return;
    default:
      if (typeof value !== "string" || value.trim() === "") throw bad();
  }
}

/** An exact choice (typed callers get no case folding or aliases, only a did-you-mean). */
function checkChoice(spec: OptionSpec, value: string): void {
  if (spec.choices?.includes(value)) return;
  const hint = didYouMean(value, spec.choices ?? []);
  throw new OptionError(
    `--${spec.name}: got "${value}", expected ${allowedText(spec)}${hint ? ` (did you mean ${hint}?)` : ""}`,
  );
}

/**
 * Check a typed options object against a schema: every name declared (an alias becomes its flag's name),
 * every value valid. Entries whose value is `undefined` count as not given. Returns the options under
 * their canonical names.
 */
export function checkOptions(options: Readonly<Record<string, unknown>>, specs: OptionSpec[]): Options {
  const index = specIndex(specs);
  const out: Options = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const spec = index.get(name);
    if (!spec) {
      const hint = didYouMean(name, index.keys());
      throw new OptionError(`unknown flag --${name}${hint ? ` (did you mean --${hint}?)` : ""}`);
    }
    if (out[spec.name] !== undefined) {
      throw new OptionError(`--${spec.name}: given more than once (as ${spec.name} and ${name})`);
    }
    checkValue(spec, value as OptionValue);
    out[spec.name] = Array.isArray(value) ? [...value] : value as OptionValue;
  }
  return out;
}

/**
 * The command line that gives these options (`--epoch=2 --quiet --datasets=a,b`), for the `command`
 * that config.json and reports record when a run was started from code.
 */
export function optionsToArgs(options: Options): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (value === true) args.push(`--${name}`);
    else if (value === false) args.push(`--${name}=False`);
    else if (Array.isArray(value)) args.push(`--${name}=${value.join(",")}`);
    else args.push(`--${name}=${value}`);
  }
  return args;
}

/** Apply defaults from the schema, then from presets (later wins), then the explicit options. */
export function resolveOptions(
  specs: OptionSpec[],
  layers: Partial<Options>[],
  explicit: Options,
): Options {
  const out: Options = {};
  for (const s of specs) if (s.default !== undefined) out[s.name] = s.default;
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  }
  for (const [k, v] of Object.entries(explicit)) out[k] = v;
  return out;
}

/** Render a schema as help text (`deno task NAME --help`). */
export function formatHelp(
  title: string,
  groups: { heading: string; specs: OptionSpec[] }[],
  defaults: Options,
  opts: { json?: boolean } = {},
): string {
  if (opts.json) return helpJson(title, groups, defaults);
  const lines = [title, ""];
  for (const g of groups) {
    if (g.specs.length === 0) continue;
    lines.push(`${g.heading}:`);
    for (const s of g.specs) {
      const d = defaults[s.name];
      const def = d === undefined ? "" : ` [default: ${Array.isArray(d) ? d.join(",") : d}]`;
      lines.push(`  --${s.name.padEnd(24)} ${allowedText(s).padEnd(28)} ${s.help}${def}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

/** `--help --json`: the same help as data, so scripts and editors can list a command's flags. */
function helpJson(
  title: string,
  groups: { heading: string; specs: OptionSpec[] }[],
  defaults: Options,
): string {
  const flag = (s: OptionSpec) => ({
    name: s.name,
    type: s.type,
    allowed: allowedText(s),
    ...(s.choices ? { choices: [...s.choices] } : {}),
    ...(s.min !== undefined ? { min: s.min } : {}),
    ...(s.max !== undefined ? { max: s.max } : {}),
    ...(s.aliases?.length ? { aliases: s.aliases } : {}),
    ...(defaults[s.name] !== undefined ? { default: defaults[s.name] } : {}),
    help: s.help,
  });
  const kept = groups.filter((g) => g.specs.length > 0);
  return JSON.stringify(
    { help: { usage: title, groups: kept.map((g) => ({ heading: g.heading, flags: g.specs.map(flag) })) } },
    null,
    2,
  );
}

/**
 * Every resolved option with its value and where it came from, for `--dry_run`: a flag the user gave, else
 * the command's default (commands without presets or entry layers).
 */
export function settingsWithSources(
  o: Options,
  explicit: ReadonlySet<string>,
): Record<string, { value: OptionValue; source: string }> {
  return Object.fromEntries(
    Object.keys(o).sort().map((k) => [k, { value: o[k], source: explicit.has(k) ? "flag" : "default" }]),
  );
}

/**
 * Read a command line that takes flags only: parse against `specs`, refuse positional arguments (a stray
 * word is a typo, not something to ignore), and print the parser's repair warnings to stderr.
 */
export function parseFlagsOnly(args: string[], specs: OptionSpec[]): ParsedArgs {
  const parsed = parseArgs(args, specs);
  if (parsed.positionals.length > 0) {
    throw new OptionError(`unexpected argument "${parsed.positionals[0]}" (flags start with --)`);
  }
  for (const w of parsed.warnings) console.error(`warning: ${w}`);
  return parsed;
}

/**
 * A simple command's flags: {@link parseFlagsOnly}, then resolve defaults; with `--help`, print the help
 * under `usage` (as JSON with `--json`) and return null (the command exits 0).
 */
export function parseCommandArgs(args: string[], specs: OptionSpec[], usage: string): Options | null {
  const o = resolveOptions(specs, [], parseFlagsOnly(args, specs).options);
  if (!o.help) return o;
  const defaults = resolveOptions(specs, [], {});
  console.log(formatHelp(usage, [{ heading: "Flags", specs }], defaults, { json: o.json === true }));
  return null;
}
