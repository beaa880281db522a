/**
 * The command dispatcher behind the deno tasks: `deno run -A runner/main.ts COMMAND [flags]`.
 * Errors a user can fix print one line and exit with status 2.
 * @module
 */
import { resolveRun } from "./commands.ts";
import { reportUserError, wantsJson } from "../core/user_errors.ts";
import type { DryRunReport } from "./run_command.ts";
import { trainResolved } from "./api.ts";
import { runMethods } from "./methods_command.ts";
import { discoverPlugins } from "./registry.ts";
import type { MethodPlugin } from "../core/plugin.ts";
import { ENTRY_TASKS } from "./entries.ts";
import { runEval } from "./eval_command.ts";
import { runCompare } from "./compare.ts";
import { runSynth } from "./synth_command.ts";
import { runPrepCommand } from "./prep_command.ts";

/** Run one command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const log = (s: string) => console.error(s);
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
        console.log(usage(await discoverPlugins(), wantsJson(args)));
        return 0;
      case "methods":
        return await runMethods(args);
      case "eval":
        return await runEval(args);
      case "compare":
        return await runCompare(args);
      case "synth":
        return await runSynth(args);
      case "prep":
        return await runPrepCommand(args);
      default: {
        // Strings to typed options (parseRunCommand), checked and resolved (resolveTyped), then trained
        // the way train() trains.
        const run = await resolveRun(command, args);
        if (!run) return 0;
        const out = await trainResolved(run, { log });
        if (out.dryRun) {
          console.log(
            run.options.json ? JSON.stringify({ dryRun: out.dryRun }, null, 2) : formatDryRun(out.dryRun),
          );
          return 0;
        }
        if (out.summary && out.dir) {
          if (run.options.json) console.log(JSON.stringify({ run: out.dir, ...out.summary }, null, 2));
          else {
            const test = Object.entries(out.summary.test).filter(([k]) => k.endsWith("/acc"));
            console.log(
              `${run.plugin.name}: best epoch ${out.summary.bestEpoch}, ${
                test.map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(", ")
              }, ${out.summary.trainSeconds.toFixed(0)} s; run directory ${out.dir}`,
            );
          }
          if (out.summary.interrupted) return 130;
        }
        return 0;
      }
    }
  } catch (e) {
    return reportUserError(e, args);
  }
}

/** The text form of a dry run: what would run, then every setting with where it came from. */
export function formatDryRun(d: DryRunReport): string {
  const width = Math.max(...Object.keys(d.settings).map((k) => k.length)) + 2;
  return [
    `dry run: ${d.method} on ${
      d.datasets.map((s) => `${s.name} (${s.train}/${s.val}/${s.test} train/val/test)`).join(", ")
    }`,
    `heads ${d.heads.map((h) => `${h.task}:${h.classes}`).join(" ")}; would write ${d.out}; nothing written`,
    "settings (value, source):",
    ...Object.entries(d.settings).map(([k, v]) =>
      `  --${k.padEnd(width)} ${
        (Array.isArray(v.value) ? v.value.join(",") : String(v.value)).padEnd(16)
      } ${v.source}`
    ),
  ].join("\n");
}

/** The commands `runner/main.ts` dispatches, each with how it is called and one line on what it does. */
function commandList(plugins: MethodPlugin[]): { command: string; usage: string; summary: string }[] {
  return [
    { command: "methods", usage: "methods", summary: "list the method plugins" },
    { command: "run", usage: "run METHOD", summary: "train any registered method (or --plugin=FILE)" },
    { command: "eval", usage: "eval --run=DIR", summary: "evaluate a run's checkpoint" },
    {
      command: "compare",
      usage: "compare",
      summary: "train every method on the same data and write report.md",
    },
    {
      command: "synth",
      usage: "synth --out=DIR",
      summary: "write the synthetic datasets as image files and a contact sheet",
    },
    {
      command: "prep",
      usage: "prep --dataset=NAME",
      summary: "prepare a real dataset you downloaded (crops, labels, one CSV)",
    },
    ...plugins.map((p) => ({ command: p.name, usage: p.name, summary: p.summary })),
    ...ENTRY_TASKS.map((e) => ({ command: e.name, usage: e.name, summary: e.summary })),
  ];
}

/** `deno task help`: the command list, as text or (`--json`) as data. */
function usage(plugins: MethodPlugin[], json: boolean): string {
  const commands = commandList(plugins);
  if (json) return JSON.stringify({ help: { usage: "deno task COMMAND [flags]", commands } }, null, 2);
  return [
    "usage: deno task COMMAND [flags]   (deno task COMMAND --help for its flags)",
    "",
    ...commands.map((c) => `  ${c.usage.padEnd(23)} ${c.summary}`),
  ].join("\n");
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
