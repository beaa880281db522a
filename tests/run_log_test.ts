/** The run's epoch log: a resume truncates it to its checkpoint, also when a crash cut the last row short. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readRunLog, RunLog } from "../runner/train/run_log.ts";

Deno.test("truncateAfter keeps the checkpoint's epochs and drops a row a crash cut short", async () => {
  const dir = await Deno.makeTempDir();
  const log = new RunLog(dir, ["acc", "loss"]);
  await log.init();
  for (const epoch of [1, 2, 3]) await log.append({ epoch, acc: epoch / 10, loss: 1 / epoch });
  // The fourth row's append was cut short: no newline, fewer cells.
  await Deno.writeTextFile(join(dir, "log.csv"), "4,0.4", { append: true });
  await assert.rejects(readRunLog(dir), "a strict read refuses the cut row");
  assert.equal(await log.truncateAfter(2), 1, "epoch 3 dropped (the cut row was never a row)");
  const { columns, rows } = await readRunLog(dir);
  assert.deepEqual(columns, ["epoch", "acc", "loss"]);
  assert.deepEqual(rows, [{ epoch: 1, acc: 0.1, loss: 1 }, { epoch: 2, acc: 0.2, loss: 0.5 }]);
  await Deno.remove(dir, { recursive: true });
});
