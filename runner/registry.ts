/**
 * Plugin discovery: every `.ts` file in `methods/` is a method plugin, found at run time. The core
 * imports no method by name; `--plugin=path.ts` loads one from anywhere.
 * @module
 */
import { resolve } from "node:path";
import type { MethodPlugin, Schedule } from "../core/plugin.ts";
import type { ImageSet } from "../core/types.ts";
import { scheduleCycle, SCHEDULES } from "../datasets/schedules.ts";
import { OptionError } from "../core/options.ts";
import { didYouMean } from "./cli.ts";

const METHODS_DIR = new URL("../methods/", import.meta.url);

/** Check that a module's default export satisfies the plugin contract. */
export function validatePlugin(p: unknown, source: string): MethodPlugin {
  const fail = (what: string): never => {
    throw new OptionError(`${source}: not a method plugin: ${what}`);
  };
  if (typeof p !== "object" || p === null) return fail("the default export is not an object");
  const m = p as Record<string, unknown>;
  if (typeof m.name !== "string" || !/^[a-z][a-z0-9-]*$/.test(m.name)) {
    fail("`name` must be a kebab-case string");
  }
  if (!Array.isArray(m.aliases)) fail("`aliases` must be an array");
  if (typeof m.summary !== "string") fail("`summary` must be a string");
  if (typeof m.reference !== "string") fail("`reference` must be a string");
  if (typeof m.dataMode !== "string") fail("`dataMode` must name a schedule");
  const own = m.schedule as { name?: unknown } | undefined;
  if (own !== undefined && own.name !== m.dataMode) fail("`schedule.name` must equal `dataMode`");
  if (own === undefined && !(m.dataMode as string in SCHEDULES)) {
    fail(
      `\`dataMode\` "${m.dataMode}" is not a schedule (built in: ${
        Object.keys(SCHEDULES).join(", ")
      }; or give \`schedule\`)`,
    );
  }
  const labels = m.labels as Record<string, unknown> | undefined;
  if (!labels || typeof labels.name !== "string" || typeof labels.needsTeacher !== "boolean") {
    fail("`labels` must be a label strategy {name, needsTeacher, build?}");
  }
  const loss = m.loss as Record<string, unknown> | undefined;
  if (!loss || !Array.isArray(loss.terms)) fail("`loss.terms` must be an array");
  if (!Array.isArray(m.options)) fail("`options` must be an array of option specs");
  return p as MethodPlugin;
}

function fileUrl(path: string): string {
  return new URL(`file://${resolve(path)}`).href;
}

/** A plugin's schedule: its own, or the built-in one its `dataMode` names. */
export function scheduleOf(p: MethodPlugin): Schedule {
  return p.schedule ?? SCHEDULES[p.dataMode];
}

/**
 * {@link scheduleCycle} of a plugin's schedule on `datasets` stand-in datasets, for runs whose summary.json
 * predates its own `evalsPerCycle` (the trainer records it from the real sets). 1 when the schedule cannot
 * be probed with stand-ins.
 */
export function evalsPerCycle(p: MethodPlugin, datasets: number): number {
  const sets = Array.from({ length: datasets }, (_, i) => ({ name: `set ${i}` }) as unknown as ImageSet);
  return scheduleCycle(scheduleOf(p), sets);
}

/**
 * Evaluations per cycle of a finished run: its summary.json's `evalsPerCycle`, which the trainer records from
 * its real datasets; for a run that predates it, {@link evalsPerCycle} of its config.json's `method` and
 * `datasets` (1 for a method that is not among the discovered plugins, one loaded with `--plugin`).
 */
export async function runEvalsPerCycle(
  config: { method?: unknown; datasets?: unknown },
  summary: { evalsPerCycle?: unknown } = {},
): Promise<number> {
  const recorded = summary.evalsPerCycle;
  if (typeof recorded === "number" && Number.isInteger(recorded) && recorded >= 1) return recorded;
  const datasets = Array.isArray(config.datasets) ? config.datasets.length : 1;
  const plugin = (await discoverPlugins()).find((p) => p.name === config.method);
  return plugin ? evalsPerCycle(plugin, datasets) : 1;
}

/** Where each plugin was loaded from (for messages that must name a file). */
const SOURCES = new WeakMap<MethodPlugin, string>();

/** The file a plugin came from (`methods/sa_mtl.ts`, or the `--plugin` path). */
export function pluginSource(p: MethodPlugin): string {
  return SOURCES.get(p) ?? `plugin ${p.name}`;
}

/** Import one plugin file. */
export async function loadPluginFile(path: string): Promise<MethodPlugin> {
  let mod: { default?: unknown };
  try {
    mod = await import(path.startsWith("file:") ? path : fileUrl(path));
  } catch (e) {
    throw new OptionError(`--plugin=${path}: cannot load: ${(e as Error).message.split("\n")[0]}`);
  }
  const plugin = validatePlugin(mod.default, path);
  SOURCES.set(plugin, path);
  return plugin;
}

let cache: MethodPlugin[] | null = null;

/**
 * Use `plugins` as the discovered set instead of reading `methods/`: for a one-file bundle (`deno bundle`),
 * which cannot import the folder's files at run time. Each is checked like a discovered plugin.
 */
export function registerBundledPlugins(plugins: { name: string; plugin: unknown }[]): MethodPlugin[] {
  cache = plugins.map(({ name, plugin }) => {
    const p = validatePlugin(plugin, `methods/${name}`);
    SOURCES.set(p, `methods/${name}`);
    return p;
  }).sort((a, b) => (pluginSource(a) < pluginSource(b) ? -1 : 1));
  return cache;
}

/** Every plugin in `methods/`, sorted by name. */
export async function discoverPlugins(): Promise<MethodPlugin[]> {
  if (cache) return cache;
  const files: string[] = [];
  for await (const e of Deno.readDir(METHODS_DIR)) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.startsWith("_") && !e.name.endsWith("_test.ts")) {
      files.push(e.name);
    }
  }
  files.sort();
  const plugins: MethodPlugin[] = [];
  for (const f of files) {
    const url = new URL(f, METHODS_DIR).href;
    const mod = await import(url);
    const plugin = validatePlugin(mod.default, `methods/${f}`);
    SOURCES.set(plugin, `methods/${f}`);
    plugins.push(plugin);
  }
  const seen = new Map<string, string>();
  for (const p of plugins) {
    for (const id of new Set([p.name, ...p.aliases].map((s) => s.toLowerCase()))) {
      if (seen.has(id)) {
        throw new OptionError(`method id "${id}" is declared by two plugins (${seen.get(id)}, ${p.name})`);
      }
      seen.set(id, p.name);
    }
  }
  cache = plugins.sort((a, b) => a.name.localeCompare(b.name));
  return cache;
}

/** Find a plugin by name or alias (case-insensitive); the error lists the known ones. */
export function findPlugin(plugins: MethodPlugin[], name: string): MethodPlugin {
  const l = name.toLowerCase();
  const hit = plugins.find((p) => p.name === l || p.aliases.some((a) => a.toLowerCase() === l));
  if (hit) return hit;
  const ids = plugins.flatMap((p) => [p.name, ...p.aliases]);
  const hint = didYouMean(name, ids);
  throw new OptionError(
    `unknown method "${name}"${hint ? ` (did you mean ${hint}?)` : ""}; known methods: ${
      plugins.map((p) => p.name).join(", ")
    }`,
  );
}
