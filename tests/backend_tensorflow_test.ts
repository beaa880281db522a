import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../runner/backend.ts";

const standin = new URL("./fixtures/tfjs_node_standin.ts", import.meta.url).href;
const missing = new URL("./fixtures/no_such_module.ts", import.meta.url).href;

Deno.test("tensorflow backend selection with a stand-in tfjs-node module", async (t) => {
  await t.step("a module that cannot be imported: explicit request fails with one line", async () => {
    await assert.rejects(
      initBackend({ backend: "tensorflow", quiet: true, tensorflowModules: [missing] }),
      /--backend=tensorflow: neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is importable/,
    );
    const info = await initBackend({ quiet: true, tensorflowModules: [missing], autoWebgpu: false });
    assert.notEqual(info.name, "tensorflow");
    assert.ok(info.skipped.includes("tensorflow: tfjs-node not importable"));
  });

  await t.step("auto picks the importable module first, then self-checks it", async () => {
    const info = await initBackend({ quiet: true, tensorflowModules: [missing, standin] });
    assert.equal(info.name, "tensorflow");
    assert.equal(info.requested, "auto");
    assert.equal(tf.getBackend(), "tensorflow");
    assert.equal(info.kernelPack, null, "the CPU kernel pack is not put on native TensorFlow");
    assert.equal(info.selfCheck?.ok, true);
  });

  await t.step("--backend=tensorflow", async () => {
    const info = await initBackend({ backend: "tensorflow", quiet: true, tensorflowModules: [standin] });
    assert.equal(info.name, "tensorflow");
    assert.equal(info.requested, "tensorflow");
  });
  await tf.setBackend("cpu");
});
