/**
 * From command-line tokens to a validated run: pick the entry and the plugin, build the schema (the
 * runner's flags plus every plugin's, each declared once), parse, apply defaults and presets, refuse
 * flags the chosen method does not read, repair the seed README's known mistakes with warnings, and
 * resolve datasets, heads and input shape.
 * @module
 */
import { checkOptions, formatHelp, optionsToArgs, parseArgs, resolveOptions } from "./cli.ts";
import { type EntryTask, methodEntry, resolveDatasets, scriptEntry, stlTask } from "./entries.ts";
import {
  type DeclaredOption,
  mergeDeclarations,
  OptionError,
  type Options,
  type OptionSpec,
} from "../core/options.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import {
  discoverPlugins,
  findPlugin,
  loadPluginFile,
  pluginSource,
  scheduleOf,
  validatePlugin,
} from "./registry.ts";
import { defaultImageSize, readRunConfigFile } from "./run_config.ts";
import {
  COMMON_OPTIONS,
  MULTI_DATASET_OPTIONS,
  SCRIPT_ONLY_OPTIONS,
  SINGLE_DATASET_OPTIONS,
  TRAIN_OPTIONS,
} from "./schema.ts";
import type { ArchName, TaskName } from "../core/types.ts";
import { checkWeighting } from "../core/task_weighting/mod.ts";

/** A fully resolved training command. */
export interface ResolvedRun {
  entry: EntryTask;
  plugin: MethodPlugin;
  /** Every flag the method reads, with its value (defaults, entry, presets and flags applied). */
  options: Options;
  datasets: string[];
  /** For STL: the one task trained; otherwise undefined (the datasets' tasks, or those of `--tasks`). */
  stlTask?: TaskName;
  warnings: string[];
  explicit: Set<string>;
  /** The command line, for config.json and reports. */
  command: string;
  /** Where each option's value came from: default, task, preset, config or flag. */
  sources: Record<string, string>;
}

/** Extra flags of the run command itself. */
const RUN_ONLY: OptionSpec[] = [
  { name: "preset", type: "string", help: "A named option set of the method (see `deno task methods`)." },
];

const RUNNER_SOURCE = "runner/schema.ts";

/**
 * Every flag a training command can name: the runner's and every plugin's. A flag declared by two
 * sources with a different type, range or default is an error naming both.
 */
export function trainingSchema(plugins: MethodPlugin[]): OptionSpec[] {
  const declared: DeclaredOption[] = [
    ...[...COMMON_OPTIONS, ...TRAIN_OPTIONS, ...RUN_ONLY, ...SINGLE_DATASET_OPTIONS, ...MULTI_DATASET_OPTIONS]
      .map((spec) => ({ spec, source: RUNNER_SOURCE })),
    ...SCRIPT_ONLY_OPTIONS.map((spec) => ({ spec: { ...spec, group: "seed" }, source: RUNNER_SOURCE })),
  ];
  for (const p of plugins) {
    for (const spec of p.options) {
      declared.push({ spec: { ...spec, group: spec.group ?? p.name }, source: pluginSource(p) });
    }
  }
  return mergeDeclarations(declared);
}

/** Dataset flags an entry reads, by its dataset slots. */
function datasetFlags(entry: EntryTask): string[] {
  switch (entry.slots) {
    case "single":
      return ["dataset", "task", "task_type"];
    case "EA":
      return ["dataset_emotion", "dataset_age", "tasks"];
    case "EGA":
      return ["dataset_emotion", "dataset_gender_age", "tasks"];
    default:
      return ["dataset_emotion", "dataset_pose", "dataset_gender_age", "tasks"];
  }
}

/** Names of the flags a method run through an entry reads. */
export function flagsRead(plugin: MethodPlugin, entry: EntryTask): Set<string> {
  return new Set([
    ...[...COMMON_OPTIONS, ...TRAIN_OPTIONS, ...RUN_ONLY].map((s) => s.name),
    ...datasetFlags(entry),
    ...plugin.options.map((s) => s.name),
  ]);
}

/**
 * The method a script entry runs: the highest-ranked plugin selector of the script's family whose
 * condition holds, else the family's fallback.
 */
export function selectMethod(
  entry: EntryTask,
  plugins: MethodPlugin[],
  o: Options,
  warnings: string[],
): MethodPlugin {
  const candidates = plugins.flatMap((p) =>
    (p.selectedBy ?? []).filter((s) => s.script === entry.family).map((s) => ({ p, s }))
  );
  const byRank = (a: { s: { rank?: number } }, b: { s: { rank?: number } }) =>
    (b.s.rank ?? 0) - (a.s.rank ?? 0);
  const hits = candidates.filter((c) => c.s.when?.(o)).sort(byRank);
  if (hits.length > 0) {
    const win = hits[0].p;
    const also = [...new Set(hits.map((h) => h.p.name))].filter((n) => n !== win.name);
    if (also.length > 0) {
      warnings.push(
        `the flags select both ${win.name} and ${
          also.join(", ")
        }; ${entry.script} runs ${win.name}, as the original did`,
      );
    }
    return win;
  }
  const fallback = candidates.filter((c) => !c.s.when).sort(byRank)[0];
  if (!fallback) {
    throw new OptionError(
      `${entry.name}: no installed method plugin is selected by ${entry.script} with these flags`,
    );
  }
  const names = new Set(candidates.map((c) => c.p.name));
  if (names.size > 1) warnings.push(`no method flag given to ${entry.script}: running ${fallback.p.name}`);
  return fallback.p;
}

/** Refuse explicit flags the run does not read; warn about original-script flags the method ignores. */
function checkFlagsRead(
  args: { plugin: MethodPlugin; entry: EntryTask; explicit: Set<string>; plugins: MethodPlugin[] },
  warnings: string[],
): void {
  const { plugin, entry } = args;
  const read = flagsRead(plugin, entry);
  const scriptFlags = new Set(entry.scriptFlags ?? []);
  const selectors = new Set(entry.selectors ?? []);
  const ignored: string[] = [];
  for (const name of args.explicit) {
    if (read.has(name) || selectors.has(name)) continue;
    if (scriptFlags.has(name)) {
      ignored.push(`--${name}`);
      continue;
    }
    const readers = args.plugins.filter((p) => p.options.some((s) => s.name === name)).map((p) => p.name);
    throw new OptionError(
      `--${name}: ${
        entry.method ? `deno task ${entry.name}` : `${entry.name} (running ${plugin.name})`
      } does not read this flag${readers.length ? ` (read by ${readers.join(", ")})` : ""}`,
    );
  }
  if (ignored.length > 0) {
    warnings.push(
      `${plugin.name} ignores ${ignored.join(", ")} (flags of ${entry.script} for other methods)`,
    );
  }
}

/** Keep only the flags a run reads (config.json records what the run used, nothing else). */
function onlyRead(o: Options, read: Set<string>): Options {
  return Object.fromEntries(Object.entries(o).filter(([k]) => read.has(k)));
}

/**
 * A training command in typed form: what a command line parses into ({@link parseRunCommand}) and what
 * the programmatic `train()` builds. Both resolve through {@link resolveTyped}.
 */
export interface RunRequest {
  /** The deno task: a method's own task, an original script's entry task, or `run`. */
  task: string;
  /** With task `run`: the method to train (a plugin name or alias); else the task names it. */
  method?: string;
  /** The flags given, typed, by flag name (defaults, entry and presets are applied on resolving). */
  options: Options;
  /** A plugin object to use besides the discovered ones (a file goes in `options.plugin`). */
  plugin?: MethodPlugin;
  /** Repairs made while reading a command line. */
  warnings?: string[];
  /** Arguments that are not flags (refused). */
  positionals?: string[];
  /** The command line config.json records (default: the task and the options as flags). */
  command?: string;
}

/** The plugins and the training schema a request resolves against. */
export interface TrainingContext {
  /** The discovered plugins, plus the extra one if any. */
  plugins: MethodPlugin[];
  /** Every flag a training command can name. */
  schema: OptionSpec[];
  /** The plugin from `--plugin=FILE` or a programmatic caller, if any. */
  extra?: MethodPlugin;
}

/** Discover the plugins, add an extra one (a file, or an object), and build the training schema. */
export async function trainingContext(
  extra: { file?: string; plugin?: MethodPlugin } = {},
): Promise<TrainingContext> {
  const plugins = [...await discoverPlugins()];
  let plugin = extra.plugin ? validatePlugin(extra.plugin, `plugin ${extra.plugin.name}`) : undefined;
  if (extra.file !== undefined) {
    const fromFile = await loadPluginFile(extra.file);
    if (plugin && plugin !== fromFile) {
      throw new OptionError(
        `--plugin=${extra.file}: a plugin object (${plugin.name}) is given too; give one`,
      );
    }
    plugin = fromFile;
  }
  if (plugin && !plugins.some((p) => p.name === plugin.name)) plugins.push(plugin);
  return { plugins, schema: trainingSchema(plugins), extra: plugin };
}

/** The first `--plugin` value on a command line (its flags must be known before parsing). */
function pluginPath(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("--plugin=")) return a.slice("--plugin=".length);
    if (a === "--plugin") return args[i + 1];
  }
  return undefined;
}

/** Parse a training command line into a typed {@link RunRequest} (and the context it was parsed in). */
export async function parseRunCommand(
  task: string,
  args: string[],
): Promise<{ request: RunRequest; context: TrainingContext }> {
  const context = await trainingContext({ file: pluginPath(args) });
  const parsed = parseArgs(args, context.schema);
  const positionals = [...parsed.positionals];
  const method = task === "run" ? positionals.shift() : undefined;
  return {
    request: {
      task,
      method,
      options: parsed.options,
      warnings: parsed.warnings,
      positionals,
      command: `deno task ${task} ${args.join(" ")}`.trim(),
    },
    context,
  };
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
  const { request, context } = await parseRunCommand(task, args);
  return await resolveTyped(request, io, context);
}

/**
 * Resolve a typed training request: check every option against its declaration (type, range, choices),
 * pick the entry and the method, refuse flags the method does not read, apply defaults, entry, presets
 * and `config`, validate, and resolve the datasets. Returns null after printing help (`options.help`).
 * Errors are {@link OptionError}s naming the flag.
 */
export async function resolveTyped(
  request: RunRequest,
  io: { print: (s: string) => void } = { print: console.log },
  context?: TrainingContext,
): Promise<ResolvedRun | null> {
  const { task } = request;
  const ctx = context ?? await trainingContext({
    file: typeof request.options.plugin === "string" ? request.options.plugin : undefined,
    plugin: request.plugin,
  });
  const { plugins, schema, extra } = ctx;
  let given = checkOptions(request.options, schema);
  const command = request.command ??
    [
      "deno task",
      task,
      ...(task === "run" && request.method ? [request.method] : []),
      ...optionsToArgs(given),
    ]
      .join(" ");
  const warnings = [...request.warnings ?? []];
  const explicit = new Set(Object.keys(given));
  const positionals = [...request.positionals ?? []];

  // --config reruns a past run: its options are the base, the command line overrides them.
  // --resume --run=DIR continues one, so its config is the base too.
  let configMethod: string | undefined;
  let fromConfig: Options = {};
  const resumeDir = given.resume && Array.isArray(given.run) && given.run.length === 1
    ? given.run[0]
    : undefined;
  const configPath = typeof given.config === "string"
    ? given.config
    : resumeDir !== undefined
    ? `${resumeDir}/config.json`
    : undefined;
  if (configPath !== undefined) {
    const cfg = await readRunConfigFile(configPath, typeof given.config === "string" ? "--config" : "--run");
    configMethod = cfg.method;
    const { out: _out, config: _c, resume: _r, run: _run, dry_run: _d, ...rest } = cfg.options;
    fromConfig = rest;
    // A multi-task run recorded before --tasks existed trained every task of its datasets: say so, or an
    // entry's default (alternative-ea's emotion,age) would build another model than the one resumed or rerun.
    if (rest.tasks === undefined && !cfg.stl_task && Array.isArray(cfg.tasks)) {
      fromConfig = { ...rest, tasks: cfg.tasks.map((t) => t.name) };
    }
  }

  let entry: EntryTask;
  let plugin: MethodPlugin;
  const script = task === "run" ? undefined : scriptEntry(task);
  if (task === "run" || !script) {
    let name: string | undefined;
    if (task === "run") {
      name = request.method ?? extra?.name ?? configMethod;
      if (!name) {
        if (given.help) {
          const groups = [{ heading: "Flags", specs: schema }];
          const defaults = resolveOptions(schema, [], {});
          io.print(
            formatHelp("deno task run METHOD [flags]", groups, defaults, { json: given.json === true }),
          );
          return null;
        }
        throw new OptionError(
          `deno task run: name a method (known: ${
            plugins.map((p) => p.name).join(", ")
          }) or give --plugin=FILE`,
        );
      }
    } else name = task;
    plugin = findPlugin(plugins, name);
    if (configMethod && resumeDir !== undefined && configMethod !== plugin.name) {
      // `deno task <method> --resume --run=DIR` must name the same method as the run.
      throw new OptionError(`--run=${resumeDir} is a ${configMethod} run, not ${plugin.name}`);
    }
    entry = methodEntry(plugin.name, plugin.summary, scheduleOf(plugin).datasets === "one");
  } else {
    entry = script;
    const pre = resolveOptions(schema, [entry.defaults, fromConfig], given);
    for (const r of entry.refuse ?? []) if (r.when(pre)) throw new OptionError(r.message);
    plugin = configMethod && resumeDir !== undefined
      ? findPlugin(plugins, configMethod)
      : selectMethod(entry, plugins, pre, warnings);
    if (!given.help) warnings.push(`${entry.script} flags select method ${plugin.name}`);
  }
  if (positionals.length > 0) {
    throw new OptionError(`unexpected argument "${positionals[0]}" (flags start with --)`);
  }
  const read = flagsRead(plugin, entry);
  if (!given.help) checkFlagsRead({ plugin, entry, explicit, plugins }, warnings);
  given = onlyRead(given, read);

  const presetName = typeof given.preset === "string" ? given.preset : undefined;
  const presets = plugin.presets ?? {};
  if (presetName && !presets[presetName]) {
    throw new OptionError(
      `--preset=${presetName}: method ${plugin.name} has ${
        Object.keys(presets).length ? `presets ${Object.keys(presets).join(", ")}` : "no presets"
      }`,
    );
  }
  const layers = [entry.defaults, presets.default ?? {}, presetName ? presets[presetName] : {}, fromConfig];
  const options = onlyRead(resolveOptions(schema, layers, given), read);
  // Where each value came from, in the order the layers apply (later wins).
  const sources: Record<string, string> = {};
  for (const s of schema) if (s.default !== undefined) sources[s.name] = "default";
  const layerNames = [
    entry.method ? `task ${entry.name}` : `task ${entry.name} (${entry.script})`,
    `preset ${plugin.name}:default`,
    `preset ${plugin.name}:${presetName}`,
    "config",
  ];
  layers.forEach((layer, i) => {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) sources[k] = layerNames[i];
  });
  for (const k of Object.keys(given)) sources[k] = "flag";
  if (typeof options.model === "string" && options.image_size === undefined) {
    options.image_size = defaultImageSize(options.model);
    sources.image_size = `default for --model=${options.model}`;
  }
  if (options.help) {
    // The help shows what this command would use without the user's own flags: the task's defaults,
    // the presets and --config (so `--preset=X --help` shows X's values), not the flags typed beside --help.
    const defaults = onlyRead(resolveOptions(schema, layers, {}), read);
    if (typeof options.model === "string" && defaults.image_size === undefined) {
      defaults.image_size = defaultImageSize(options.model);
    }
    io.print(helpText(task, { plugin, entry, schema, options: defaults }, options.json === true));
    return null;
  }
  plugin.validate?.(options);
  const singleTask = scheduleOf(plugin).datasets === "one";
  await checkWeighting(options, { method: plugin.name, singleTask });
  if (
    typeof options.arch === "string" && plugin.architectures &&
    !plugin.architectures.includes(options.arch as ArchName)
  ) {
    throw new OptionError(
      `--arch=${options.arch}: ${plugin.name} cannot use this architecture (it uses: ${
        plugin.architectures.join(", ")
      })`,
    );
  }
  const datasets = resolveDatasets(entry, options, { singleTask, explicit });
  const stl = singleTask ? stlTask(options, warnings, { repair: !entry.method }) : undefined;
  if (!singleTask && datasets.length < 2) {
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
    explicit,
    command,
    sources: onlyRead(sources, read) as Record<string, string>,
  };
}

/** `--help` of a training task: only the flags it reads, grouped, with ranges and defaults. */
function helpText(
  task: string,
  ctx: { plugin: MethodPlugin; entry: EntryTask; schema: OptionSpec[]; options: Options },
  json: boolean,
): string {
  const { plugin, entry, schema } = ctx;
  const pick = (names: Iterable<string>) => {
    const want = new Set(names);
    return schema.filter((s) => want.has(s.name));
  };
  const own = new Set(plugin.options.map((s) => s.name));
  const script = (entry.scriptFlags ?? []).filter((n) => !own.has(n));
  return formatHelp(
    `deno task ${task === "run" ? `run ${plugin.name}` : task} [flags]: ${plugin.summary}`,
    [
      { heading: `Method ${plugin.name} (${plugin.reference})`, specs: pick(own) },
      ...(script.length
        ? [{ heading: `${entry.script} flags (select or tune other methods)`, specs: pick(script) }]
        : []),
      { heading: "Datasets", specs: pick(datasetFlags(entry)) },
      { heading: "Training", specs: [...TRAIN_OPTIONS, ...RUN_ONLY] },
      { heading: "Common", specs: COMMON_OPTIONS },
    ],
    { ...ctx.options, help: false },
    { json },
  );
}
