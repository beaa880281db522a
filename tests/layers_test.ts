/**
 * The layering rule of docs/architecture.md, checked on the source tree: `core/` (the base layer)
 * imports nothing of the project above it; `datasets/`, `models/`, `kernels/` and `methods/` import only
 * the base layer and their own kind (models also read the datasets' label spaces); nothing but the applications (`demo/`, `bench/`, `tests/`, `mod.ts`)
 * imports the runner layer; and no module imports itself through a cycle.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const SCANNED = ["core", "runner", "datasets", "models", "kernels", "methods", "demo", "bench"];

/** What each layer may import (folders of the project, by first path segment). */
const ALLOWED: Record<string, string[]> = {
  core: ["core"],
  kernels: ["kernels", "core"],
  datasets: ["datasets", "core"],
  // Models read the label spaces (class names in FER2013 order) that the datasets define.
  models: ["models", "kernels", "datasets", "core"],
  methods: ["core"],
  runner: ["runner", "core", "datasets", "models", "kernels", "methods"],
  demo: ["demo", "runner", "core", "datasets", "models", "kernels"],
  bench: ["bench", "runner", "core", "datasets", "models", "kernels", "methods", "demo"],
};

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const rel = join(dir, e.name);
    if (e.isDirectory) out.push(...await sourceFiles(rel));
    else if (e.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Relative module specifiers of a source file: static imports, re-exports and dynamic imports. */
export function relativeImports(src: string): string[] {
  const found: string[] = [];
  // Comments may show example imports; only code counts.
  const code = src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of code.matchAll(re)) found.push(m[1]);
  // Directories read at run time (plugin discovery) depend on their modules too; other URLs name data
  // files or a program started as a subprocess, which are not imports.
  for (const m of code.matchAll(/new URL\(\s*["'](\.{1,2}\/[^"']+\/)["']/g)) found.push(m[1]);
  return found;
}

async function graph(): Promise<Map<string, string[]>> {
  const g = new Map<string, string[]>();
  const files = (await Promise.all(SCANNED.map(sourceFiles))).flat();
  files.push("mod.ts");
  for (const f of files) {
    const src = await Deno.readTextFile(join(ROOT, f));
    g.set(f, relativeImports(src).map((s) => relative(ROOT, normalize(join(ROOT, dirname(f), s)))));
  }
  return g;
}

/** Strongly connected components with more than one node (or a self-loop): the import cycles. */
export function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

Deno.test("layers: every import goes down or sideways within a layer", async () => {
  const g = await graph();
  const bad: string[] = [];
  for (const [from, tos] of g) {
    const layer = from.split("/")[0];
    const allowed = ALLOWED[layer];
    if (!allowed) continue; // mod.ts: the public entry may import any layer
    for (const to of tos) {
      const target = to.split("/")[0];
      if (target === "node_modules") continue; // a package's files (e.g. model weights), not our layers
      if (!allowed.includes(target)) bad.push(`${from} -> ${to}`);
    }
  }
  assert.deepEqual(bad, [], `imports that break the layering:\n${bad.join("\n")}`);
});

Deno.test("layers: no import cycle", async () => {
  const found = cycles(await graph());
  assert.deepEqual(found, [], `import cycles:\n${found.map((c) => c.join(" <-> ")).join("\n")}`);
});

Deno.test("layers: the checker sees cycles and imports in every form", () => {
  const g = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
  assert.deepEqual(cycles(g), [["a.ts", "b.ts", "c.ts"]]);
  const src = `import { x } from "../a.ts";\nexport * from "./b.ts";\nconst m = await import("./c.ts");\n` +
    `import "./d.ts";\n// import { y } from "./ignored.ts";\nconst dir = new URL("../methods/", import.meta.url);\n` +
    `const child = new URL("./main.ts", import.meta.url);`;
  assert.deepEqual(relativeImports(src), ["../a.ts", "./b.ts", "./c.ts", "./d.ts", "../methods/"]);
});
