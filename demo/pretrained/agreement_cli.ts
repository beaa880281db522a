/**
 * `deno task demo:agreement [--heads=emotion,pose,gender,age] [--detector=ssd|tiny] [--faces] [--json]`:
 * run the pretrained heads on the hand-labelled real faces (tests/fixtures/real_faces/labels.json) with
 * the demo's own detection and crops, and print the agreement table per head against its target.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { parseArgs } from "node:util";
import { loadDetector } from "../detect.ts";
import { loadPretrainedHeads, parsePretrainedTasks, PRETRAINED_TASKS } from "./heads.ts";
import { poseSide } from "./pose_from_mesh.ts";
import { agreementTable, formatAgreement, labelledOutcomes } from "./real_faces.ts";

async function main(): Promise<number> {
  let a;
  try {
    a = parseArgs({
      args: Deno.args,
      options: {
        heads: { type: "string", default: PRETRAINED_TASKS.join(",") },
        detector: { type: "string", default: "ssd" },
        faces: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  if (a.detector !== "ssd" && a.detector !== "tiny") {
    console.error(`error: --detector=${a.detector}: expected ssd or tiny`);
    return 2;
  }
  let tasks;
  try {
    tasks = parsePretrainedTasks(a.heads!);
  } catch (e) {
    console.error(`error: --heads=${a.heads}: ${(e as Error).message}`);
    return 2;
  }
  if (!(await tf.setBackend("wasm"))) await tf.setBackend("cpu");
  await tf.ready();
  const heads = await loadPretrainedHeads({ tasks });
  try {
    const detector = await loadDetector({ detector: a.detector });
    const outcomes = await labelledOutcomes({ detector, heads: [heads] });
    const rows = agreementTable(outcomes);
    if (a.json) {
      console.log(JSON.stringify({ detector: a.detector, rows, outcomes }, null, 2));
      return 0;
    }
    if (a.faces) {
      for (const o of outcomes) {
        const h = o.heads;
        const l = o.label;
        const said = h
          ? Object.values(h).map((p) =>
            `${p.task} ${p.task === "pose" ? poseSide(p.label) : p.label}${
              p.values?.years !== undefined ? ` (${p.values.years.toFixed(0)} y)` : ""
            }${p.values?.yaw_deg !== undefined ? ` (${p.values.yaw_deg.toFixed(0)} deg)` : ""}`
          ).join(", ")
          : "not detected";
        console.log(
          `${o.photo} @${l.at.join(",")}: label ${l.gender}, ${
            l.smile ? "smile" : "no smile"
          }, ${l.age} y, ` +
            `${l.pose} | ${said}`,
        );
      }
    }
    console.log(`detector ${a.detector}, heads ${heads.source}\n`);
    console.log(formatAgreement(rows));
  } finally {
    heads.dispose();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
