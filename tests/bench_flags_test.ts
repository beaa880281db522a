/**
 * The bench scripts read their flags as the toolkit's commands do (runner/cli.ts, core/user_errors.ts):
 * `--help` prints the flags and exits 0; a misspelt flag or a bad value is exactly one `error:` line on
 * stderr (a did-you-mean, the flag named, no stack trace) and exit status 2. Each script runs as the
 * `deno task` runs it, in its own process, and every case fails (or prints help) before any measuring.
 */
import assert from "node:assert/strict";
import { parseCommandArgs } from "../runner/cli.ts";
import { GPU_CHECK_OPTIONS, profileArgs, type ProfileOptions, profileOptionsOf } from "../bench/gpu_check.ts";
import { benchFormat, benchJson } from "../bench/_bench_json.ts";

const ROOT = new URL("..", import.meta.url);

/** `deno run -A bench/SCRIPT ...args` from the repository root; its exit code and output. */
async function runBench(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `bench/${script}`, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The run exits 2 with one `error:` line matching `message` and nothing else on stderr or stdout. */
async function assertUserError(script: string, args: string[], message: RegExp): Promise<void> {
  const r = await runBench(script, args);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  const what = `${script} ${args.join(" ")}`;
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.equal(lines.length, 1, `${what}: one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^error: /, what);
  assert.match(lines[0], message, `${what}: ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
  assert.equal(r.stdout, "", `${what}: nothing on stdout`);
}

/** `--help` (with `extra` flags, which must parse) exits 0 and lists `flag`. */
async function assertHelp(script: string, flag: string, extra: string[] = []): Promise<void> {
  const r = await runBench(script, [...extra, "--help"]);
  assert.equal(r.code, 0, `${script} --help: exit ${r.code}\n${r.stderr}`);
  assert.match(r.stdout, new RegExp(`--${flag}\\b`), `${script} --help lists --${flag}`);
}

interface Case {
  script: string;
  /** A flag `--help` must list. */
  flag: string;
  /** A misspelt flag and the did-you-mean it must get. */
  misspelt: [string, RegExp];
  /** Bad values, each with the message naming its flag. */
  bad: [string[], RegExp][];
  /** Flags that must parse (given with --help, so nothing runs). */
  parses?: string[];
}

const CASES: Case[] = [
  {
    script: "train_bench.ts",
    flag: "steps",
    misspelt: ["--stpes=3", /unknown flag --stpes .*\(did you mean --steps\?\)$/],
    bad: [
      [["--steps=0"], /^error: --steps: got "0", expected an integer >= 1$/],
      [["--warmup=-1"], /^error: --warmup: /],
      [["--clock=gpu"], /^error: --clock: got "gpu", expected one of wall, cpu \(did you mean cpu\?\)$/],
      [["--models=vgg65"], /^error: --models: got "vgg65", .*\(did you mean vgg64\?\)$/],
      [["--backend=wasm,gpu"], /^error: --backend: got "gpu"/],
      [["--threads=1,x"], /^error: --threads: /],
      [["--peer=torch"], /^error: --peer: /],
      [["--clock=cpu", "--threads=2"], /^error: --clock=cpu: .*--threads=1/],
    ],
    parses: ["--breakdown", "--by_shape", "--backend=wasm,cpu", "--threads=1,all", "--models=vgg64"],
  },
  {
    script: "webgpu_bench.ts",
    flag: "mode",
    misspelt: ["--stpes=3", /\(did you mean --steps\?\)$/],
    bad: [
      [["--steps=0"], /^error: --steps: got "0", expected an integer >= 1$/],
      [["--mode=stock,fast"], /^error: --mode: got "fast"/],
      [["--models=resnet"], /^error: --models: /],
    ],
    parses: ["--mode=pack", "--models=xception48,project-xception48", "--kernels"],
  },
  {
    script: "task_weighting_bench.ts",
    flag: "weightings",
    misspelt: ["--stpes=3", /\(did you mean --steps\?\)$/],
    bad: [
      [["--steps=0"], /^error: --steps: got "0", expected an integer >= 1$/],
      [["--backend=gpu"], /^error: --backend: /],
      [["--size=8"], /^error: --size: /],
      [
        ["--weightings=ew,uww"],
        /^error: --weightings: unknown weighting "uww" \(did you mean uw\?\); known: .*\bew\b.*\buw\b/,
      ],
    ],
  },
  {
    script: "gmm_stability.ts",
    flag: "cases",
    misspelt: ["--cses=3", /\(did you mean --cases\?\)$/],
    bad: [[["--cases=0"], /^error: --cases: got "0", expected an integer >= 1$/]],
  },
  {
    script: "weighting_scale.ts",
    flag: "metric",
    misspelt: ["--metrc=mmd", /\(did you mean --metric\?\)$/],
    bad: [
      [["--metric=wasserstein"], /^error: --metric: got "wasserstein", expected one of emd, mmd$/],
      [["0"], /^error: N: got "0", expected a positive integer/],
    ],
    parses: ["20000", "--metric", "mmd"],
  },
  {
    script: "rss_soak.ts",
    flag: "epoch",
    misspelt: ["--methd=stl", /\(did you mean --method\?\)$/],
    bad: [
      [["--epoch=3"], /^error: --epoch: got "3", expected an integer >= 4$/],
      [["--method=nope"], /^error: unknown method "nope"; known methods: .*\bsa-mtl\b/],
    ],
    parses: ["--method=stl", "--train_size=64"],
  },
  {
    script: "gpu_check.ts",
    flag: "budget",
    misspelt: ["--budgt=30", /\(did you mean --budget\?\)$/],
    bad: [
      [["--budget=0"], /^error: --budget: /],
      [["--parts=adapter,gpu"], /^error: --parts: got "gpu"/],
      [["--profile-batch=0"], /^error: --profile-batch: /],
      [["--part=nope"], /^error: --part: got "nope"/],
    ],
    // The flags the check passes to its parts (`--part=NAME` and the --profile-* ones), in both spellings.
    parses: [
      "--allow-software",
      "--profile-models=xception48",
      "--profile-batch=2",
      "--profile_size=32",
      "--profile-steps=1",
      "--part=adapter",
    ],
  },
];

for (const c of CASES) {
  Deno.test(`bench/${c.script}: --help, a misspelt flag and bad values`, async () => {
    await assertHelp(c.script, c.flag);
    if (c.parses) await assertHelp(c.script, c.flag, c.parses);
    await assertUserError(c.script, [c.misspelt[0]], c.misspelt[1]);
    for (const [args, message] of c.bad) await assertUserError(c.script, args, message);
  });
}

Deno.test("bench/train_bench.ts: --help --json is the help as data; --json errors are JSON on stdout", async () => {
  const help = await runBench("train_bench.ts", ["--help", "--json"]);
  assert.equal(help.code, 0, help.stderr);
  const flags =
    (JSON.parse(help.stdout) as { help: { groups: { flags: { name: string; aliases?: string[] }[] }[] } })
      .help.groups.flatMap((g) => g.flags);
  assert.deepEqual(flags.find((f) => f.name === "by-shape")?.aliases, ["by_shape"]);
  assert.ok(flags.some((f) => f.name === "steps"));
  const bad = await runBench("train_bench.ts", ["--stpes=3", "--json"]);
  assert.equal(bad.code, 2);
  assert.deepEqual(JSON.parse(bad.stdout), {
    error: 'unknown flag --stpes in "--stpes=3" (did you mean --steps?)',
    exitCode: 2,
  });
});

Deno.test("gpu-check: the flags a part is started with read back as the parent's profile settings", () => {
  const cases: ProfileOptions[] = [
    { models: ["xception48"], batch: 2, size: 32, steps: 1 },
    { models: ["xception64", "vggface224"], batch: 32, size: null, steps: 3 },
  ];
  for (const o of cases) {
    const parsed = parseCommandArgs([`--part=profile`, ...profileArgs(o)], GPU_CHECK_OPTIONS, "gpu-check");
    assert.ok(parsed);
    assert.deepEqual(profileOptionsOf(parsed), o);
  }
});

Deno.test("bench JSON: one object, its format tag first, then the body's keys", () => {
  assert.equal(benchFormat("train"), "sa-mtl-bench-train/1");
  assert.equal(benchFormat("rss", 2), "sa-mtl-bench-rss/2");
  const text = benchJson("gmm", { cases: 3, rows: [{ nInit: 1 }] });
  assert.deepEqual(Object.keys(JSON.parse(text)), ["format", "cases", "rows"]);
  assert.deepEqual(JSON.parse(text), { format: "sa-mtl-bench-gmm/1", cases: 3, rows: [{ nInit: 1 }] });
});

Deno.test("bench --json: stdout is the tagged document only, progress goes to stderr", async () => {
  const weighting = await runBench("weighting_scale.ts", ["150", "--metric=mmd", "--json"]);
  assert.equal(weighting.code, 0, weighting.stderr);
  const w = JSON.parse(weighting.stdout) as { format: string; rows: Record<string, unknown>[] };
  assert.equal(w.format, "sa-mtl-bench-weighting/1");
  assert.equal(w.rows.length, 1);
  assert.equal(w.rows[0].n, 150);
  assert.equal(w.rows[0].metric, "mmd");
  for (const k of ["seconds", "peakRssMiB", "keptFraction", "meanWeight"]) {
    assert.equal(typeof w.rows[0][k], "number", k);
  }
  assert.match(weighting.stderr, /^N=150 d=128 C=5 k=4 metric=mmd: /m);

  const gmm = await runBench("gmm_stability.ts", ["--cases=1", "--json"]);
  assert.equal(gmm.code, 0, gmm.stderr);
  const g = JSON.parse(gmm.stdout) as { format: string; cases: number; rows: { setting: string }[] };
  assert.equal(g.format, "sa-mtl-bench-gmm/1");
  assert.equal(g.cases, 1);
  assert.ok(g.rows.some((r) => r.setting === "single fit"));

  const empty = await Deno.makeTempDir();
  try {
    const shift = await runBench("shift_curve_table.ts", [empty, "--json"]);
    assert.equal(shift.code, 0, shift.stderr);
    assert.deepEqual(JSON.parse(shift.stdout), { format: "sa-mtl-bench-shift-curve/1", rows: [] });
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
