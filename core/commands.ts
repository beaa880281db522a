/**
 * From command-line tokens to a validated run: pick the entry and the plugin, build the schema
 * (common + seed + every plugin's flags), parse, apply defaults and presets, repair the seed README's
 * known mistakes with warnings, and resolve datasets, heads and input shape.
 * @module
 */
import { formatHelp, parseArgs, resolveOptions } from "./cli.ts";
import { entryFor, type EntryTask, resolveDatasets, stlTask } from "./entries.ts";
import { OptionError, type Options, type OptionSpec } from "./options.ts";
import type { MethodPlugin } from "./plugin.ts";
import { discoverPlugins, findPlugin, loadPluginFile } from "./registry.ts";
import { COMMON_OPTIONS, SEED_OPTIONS, TRAIN_OPTIONS } from "./schema.ts";
import type { TaskName } from "./types.ts";

/** A fully resolved training command. */
export interface ResolvedRun {
  entry: EntryTask;
  plugin: MethodPlugin;
  options: Options;
  datasets: string[];
  /** For STL: the one task trained; otherwise undefined (all tasks of the datasets). */
  stlTask?: TaskName;
  warnings: string[];
  explicit: Set<string>;
  /** The command line, for config.json and reports. */
  command: string;
}

/** Extra flags of the run command itself. */
const RUN_ONLY: OptionSpec[] = [
  { name: "preset", type: "string", help: "A named option set of the method (see `deno task methods`)." },
];

/** Every flag a training command accepts: common, training, seed, and every plugin's own. */
export function trainingSchema(plugins: MethodPlugin[]): OptionSpec[] {
  const all = [...COMMON_OPTIONS, ...TRAIN_OPTIONS, ...RUN_ONLY, ...SEED_OPTIONS];
  const seen = new Set(all.map((s) => s.name));
  for (const p of plugins) {
    for (const s of p.options) {
      if (seen.has(s.name)) continue;
      seen.add(s.name);
      all.push({ ...s, group: s.group ?? p.name });
    }
  }
  return all;
}

function pluginPath(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--plugin=")) return a.slice("--plugin=".length);
    if (a === "--plugin") return args[i + 1];
  }
  return undefined;
}

/** Default input side per backbone (docs/original.md §4.1: VGGFace 224, mini-Xception 64). */
export function defaultImageSize(model: string): number {
  return model === "vggFace" ? 224 : 64;
}

/** Input channels per backbone: VGGFace takes BGR, the Xceptions grayscale. */
export function channelsFor(model: string): 1 | 3 {
  return model === "vggFace" ? 3 : 1;
}

/**
 * Resolve a training command. `task` is the deno task name (`run` takes the method as the first
 * positional argument). Returns null after printing help.
 */
export async function resolveRun(
  task: string,
  args: string[],
  io: { print: (s: string) => void } = { print: console.log },
): Promise<ResolvedRun | null> {
  const plugins = [...await discoverPlugins()];
  const extraPath = pluginPath(args);
  let extra: MethodPlugin | undefined;
  if (extraPath) {
    extra = await loadPluginFile(extraPath);
    if (!plugins.some((p) => p.name === extra!.name)) plugins.push(extra);
  }
  const schema = trainingSchema(plugins);
  const parsed = parseArgs(args, schema);
  let explicit = parsed.options;
  const warnings = [...parsed.warnings];

  // --config reruns a past run: its options are the base, the command line overrides them.
  // --resume --run=DIR continues one, so its config is the base too.
  let configMethod: string | undefined;
  const resumeDir = explicit.resume && Array.isArray(explicit.run) && explicit.run.length === 1
    ? explicit.run[0]
    : undefined;
  const configPath = typeof explicit.config === "string"
    ? explicit.config
    : resumeDir !== undefined
    ? `${resumeDir}/config.json`
    : undefined;
  if (configPath !== undefined) {
    const path = configPath;
    let cfg: { method?: string; options?: Options };
    try {
      cfg = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw new OptionError(`--config=${path}: cannot read run config: ${(e as Error).message}`);
    }
    if (!cfg.options || typeof cfg.method !== "string") {
      throw new OptionError(`--config=${path}: not a run config (needs "method" and "options")`);
    }
    configMethod = cfg.method;
    const { out: _out, config: _c, resume: _r, run: _run, dry_run: _d, ...rest } = cfg.options;
    explicit = { ...rest, ...explicit };
    delete explicit.config;
    if (cfg.method && task !== "run" && resumeDir !== undefined) {
      // `deno task <method> --resume --run=DIR` must name the same method as the run.
      const entryMethod = typeof entryFor(task).method === "string" ? entryFor(task).method : undefined;
      if (entryMethod && entryMethod !== cfg.method) {
        throw new OptionError(`--run=${resumeDir} is a ${cfg.method} run, not ${String(entryMethod)}`);
      }
    }
  }

  let entry: EntryTask;
  let methodName: string;
  if (task === "run") {
    const name = parsed.positionals[0] ?? extra?.name ?? configMethod;
    if (!name) {
      if (explicit.help) {
        io.print(formatHelp("deno task run METHOD [flags]", [{ heading: "Flags", specs: schema }], {}));
        return null;
      }
      throw new OptionError(
        `deno task run: name a method (known: ${
          plugins.map((p) => p.name).join(", ")
        }) or give --plugin=FILE`,
      );
    }
    methodName = findPlugin(plugins, name).name;
    entry = entryFor(methodName);
  } else {
    entry = entryFor(task);
    if (parsed.positionals.length > 0) {
      throw new OptionError(`unexpected argument "${parsed.positionals[0]}" (flags start with --)`);
    }
    const pre = resolveOptions(schema, [entry.defaults], explicit);
    methodName = typeof entry.method === "string" ? entry.method : entry.method(pre, warnings);
  }
  const plugin = findPlugin(plugins, methodName);
  if (typeof entry.method !== "string" && entry.script && !explicit.help) {
    warnings.push(`${entry.script} flags select method ${plugin.name}`);
  }

  const presetName = typeof explicit.preset === "string" ? explicit.preset : undefined;
  const presets = plugin.presets ?? {};
  if (presetName && !presets[presetName]) {
    throw new OptionError(
      `--preset=${presetName}: method ${plugin.name} has ${
        Object.keys(presets).length ? `presets ${Object.keys(presets).join(", ")}` : "no presets"
      }`,
    );
  }
  const layers = [entry.defaults, presets.default ?? {}, presetName ? presets[presetName] : {}];
  const options = resolveOptions(schema, layers, explicit);
  if (typeof options.model === "string" && options.image_size === undefined) {
    options.image_size = defaultImageSize(options.model);
  }
  if (options.help) {
    const mine = new Set(plugin.options.map((s) => s.name));
    io.print(
      formatHelp(`deno task ${task === "run" ? `run ${plugin.name}` : task} [flags]: ${plugin.summary}`, [
        {
          heading: `Method ${plugin.name} (${plugin.reference})`,
          specs: schema.filter((s) => mine.has(s.name)),
        },
        { heading: "Common", specs: COMMON_OPTIONS },
        { heading: "Training", specs: [...TRAIN_OPTIONS, ...RUN_ONLY] },
        { heading: "Original scripts (docs/original.md §1)", specs: SEED_OPTIONS },
      ], { ...options, help: false }),
    );
    return null;
  }
  plugin.validate?.(options);
  const datasets = resolveDatasets(entry, options, { dataMode: plugin.dataMode, explicit: parsed.explicit });
  const stl = plugin.dataMode === "single" ? stlTask(options, warnings) : undefined;
  if (plugin.dataMode !== "single" && datasets.length < 2) {
    throw new OptionError(
      `${plugin.name} is a multi-task method and needs at least two datasets, got ${datasets.join(",")}`,
    );
  }
  return {
    entry,
    plugin,
    options,
    datasets,
    stlTask: stl,
    warnings,
    explicit: parsed.explicit,
    command: `deno task ${task} ${args.join(" ")}`.trim(),
  };
}
