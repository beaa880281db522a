/**
 * `deno task methods [--json] [--out=DIR]`: the registered method plugins as a table, or as JSON (each one's
 * data mode, label strategy, role, loss terms, flags and presets); with `--out` the JSON is also written to
 * `DIR/methods.json`. Unknown flags are errors, as in every command.
 * @module
 */
import { join } from "node:path";
import { parseCommandArgs } from "./cli.ts";
import { bool, type OptionSpec } from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import { writeJsonAtomic } from "../core/fs.ts";
import { COMMON_OPTIONS } from "./schema.ts";
import { checkOutDir } from "../core/out_dir.ts";
import { discoverPlugins } from "./registry.ts";
import { methodsTable } from "./methods_table.ts";

/** Format version of `methods.json`. */
export const METHODS_FORMAT_VERSION = 1;

/**
 * Flags of `deno task methods`: the common ones it reads. Listing draws nothing at random and trains
 * nothing, so `--seed`, `--backend` and `--threads` are refused as unknown, as eval refuses `--seed`.
 */
export const METHODS_OPTIONS: OptionSpec[] = COMMON_OPTIONS.filter((s) =>
  !["seed", "backend", "threads"].includes(s.name)
);

/** One plugin as `methods --json` lists it. */
export interface MethodDescription {
  /** Registry name. */
  name: string;
  /** Other names it answers to. */
  aliases: string[];
  /** One line on what it does. */
  summary: string;
  /** The paper or code it follows. */
  reference: string;
  /** The name of its schedule (built in: `joint`, `alternating`, `single`). */
  dataMode: string;
  /** Its label strategy's name. */
  labels: string;
  /** `reference` (STL), `proposed` (SA-MTL) or `baseline`. */
  role: string;
  /** Loss terms, the masked cross-entropy first. */
  loss: string[];
  /** Its own flags. */
  options: string[];
  /** Its named presets. */
  presets: string[];
}

/** A plugin as `methods --json` lists it. */
export function describePlugin(p: MethodPlugin): MethodDescription {
  return {
    name: p.name,
    aliases: p.aliases,
    summary: p.summary,
    reference: p.reference,
    dataMode: p.dataMode,
    labels: p.labels.name,
    role: p.role ?? "baseline",
    loss: ["masked-ce", ...p.loss.terms.map((t) => t.name)],
    options: p.options.map((o) => o.name),
    presets: Object.keys(p.presets ?? {}),
  };
}

/** The methods command; returns an exit code. */
export async function runMethods(args: string[]): Promise<number> {
  const o = parseCommandArgs(
    args,
    METHODS_OPTIONS,
    "deno task methods [--json] [--out=DIR]: list the method plugins",
  );
  if (!o) return 0;
  const out = typeof o.out === "string" ? o.out : undefined;
  if (out !== undefined) await checkOutDir(out);
  const plugins = await discoverPlugins();
  const methods = plugins.map(describePlugin);
  if (bool(o, "dry_run")) {
    const file = out === undefined ? null : join(out, "methods.json");
    console.log(
      o.json
        ? JSON.stringify({ dryRun: { methods: methods.length, file, written: false } }, null, 2)
        : `dry run: ${methods.length} methods; ${file ? `would write ${file}` : "prints only"}`,
    );
    return 0;
  }
  // writeJsonAtomic creates the folder.
  if (out !== undefined) {
    await writeJsonAtomic(join(out, "methods.json"), { formatVersion: METHODS_FORMAT_VERSION, methods });
  }
  console.log(o.json ? JSON.stringify(methods, null, 2) : methodsTable(plugins));
  return 0;
}
