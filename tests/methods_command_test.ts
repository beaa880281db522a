/** `deno task methods` and `methods --json`: every registered plugin, as the registry declares it. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../runner/main.ts";
import { type MethodDescription, METHODS_FORMAT_VERSION } from "../runner/methods_command.ts";
import { discoverPlugins } from "../runner/registry.ts";
import { stdoutOf } from "./_stdout.ts";

Deno.test("methods lists every plugin; --json gives each one's declared flags, presets and loss terms", async () => {
  const plugins = await discoverPlugins();
  const json = await stdoutOf(() => main(["methods", "--json"]));
  assert.equal(json.code, 0);
  const listed = JSON.parse(json.out) as MethodDescription[];
  assert.deepEqual(listed.map((m) => m.name), plugins.map((p) => p.name));
  for (const [i, p] of plugins.entries()) {
    const m = listed[i];
    assert.equal(m.dataMode, p.dataMode);
    assert.equal(m.labels, p.labels.name);
    assert.deepEqual(m.options, p.options.map((o) => o.name));
    assert.deepEqual(m.loss, ["masked-ce", ...p.loss.terms.map((t) => t.name)]);
    assert.deepEqual(m.presets, Object.keys(p.presets ?? {}));
  }
  // The roles a comparison reads: one reference (STL) and one proposed method (SA-MTL).
  assert.deepEqual(listed.filter((m) => m.role === "reference").map((m) => m.name), ["stl"]);
  assert.deepEqual(listed.filter((m) => m.role === "proposed").map((m) => m.name), ["sa-mtl"]);

  const text = await stdoutOf(() => main(["methods"]));
  assert.equal(text.code, 0);
  const rows = text.out.split("\n");
  assert.match(rows[0], /^name\s+aliases\s+data mode\s+label strategy\s+loss terms\s+reference$/);
  assert.equal(rows.length, 2 + plugins.length);
  for (const [i, p] of plugins.entries()) assert.ok(rows[2 + i].startsWith(`${p.name} `), rows[2 + i]);
});

Deno.test("methods --out writes methods.json (the --json listing, versioned); --dry_run writes nothing; --help", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "methods_" });
  try {
    const out = join(tmp, "out");
    const dry = await stdoutOf(() => main(["methods", `--out=${out}`, "--dry_run", "--json"]));
    assert.equal(dry.code, 0);
    assert.deepEqual(JSON.parse(dry.out).dryRun, {
      methods: (await discoverPlugins()).length,
      file: join(out, "methods.json"),
      written: false,
    });
    await assert.rejects(() => Deno.stat(out), Deno.errors.NotFound);

    const listed = await stdoutOf(() => main(["methods", `--out=${out}`, "--json"]));
    assert.equal(listed.code, 0);
    const saved = JSON.parse(await Deno.readTextFile(join(out, "methods.json")));
    assert.equal(saved.formatVersion, METHODS_FORMAT_VERSION);
    assert.deepEqual(saved.methods, JSON.parse(listed.out));

    const help = await stdoutOf(() => main(["methods", "--help"]));
    assert.equal(help.code, 0);
    assert.match(help.out, /^deno task methods/);
    assert.doesNotMatch(help.out, /--seed/, "methods reads no seed");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
