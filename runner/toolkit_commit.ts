/**
 * The git commit of the toolkit checkout that runs, so a run (and a report built from runs) names the code that
 * produced it: a committed report measured before the data or a method changed is reproduced from that commit.
 * @module
 */
import { fileURLToPath } from "node:url";

let cached: Promise<string | undefined> | undefined;

/**
 * `git rev-parse --short=12 HEAD` of the toolkit's own checkout, with `+dirty` when tracked files outside `docs/`
 * differ from it;
 * undefined when the toolkit is not a git checkout or git is not installed (a copy, a bundle). Computed once per
 * process.
 */
export function toolkitCommit(): Promise<string | undefined> {
  cached ??= (async () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const git = async (...args: string[]) => {
      const out = await new Deno.Command("git", {
        args: ["-C", root, ...args],
        stdout: "piped",
        stderr: "null",
      })
        .output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    };
    try {
      const head = await git("rev-parse", "--short=12", "HEAD");
      if (!head) return undefined;
      // Only the code counts: a comparison in docs/ rewrites its tracked plan on every --resume, which would
      // mark every run it trains "+dirty".
      const status = await git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs");
      return status ? `${head}+dirty` : head;
    } catch {
      return undefined; // no git binary
    }
  })();
  return cached;
}
