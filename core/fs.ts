/**
 * File helpers: every output is written atomically (temp file in the same folder + rename),
 * so an interrupted run never leaves a half-written file behind.
 * @module
 */
import { dirname } from "node:path";

let counter = 0;

function tempName(path: string): string {
  counter++;
  return `${path}.${Deno.pid}.${counter}.tmp`;
}

/** Write bytes atomically, creating the parent folder. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Synchronous variant of {@link writeFileAtomic}. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    if (typeof data === "string") Deno.writeTextFileSync(tmp, data);
    else Deno.writeFileSync(tmp, data);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    throw e;
  }
}

/** Write JSON (2-space indent, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** True when a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Synchronous {@link exists}. */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
