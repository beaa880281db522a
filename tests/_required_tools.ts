/**
 * Whether a test that needs an outside tool (ffmpeg, Vulkan, Slurm, OpenCV's cascades, npm) may be skipped
 * where the tool is missing. `.ci/run` installs every such tool and then sets `SA_MTL_TEST_TOOLS=required`, so in
 * CI a tool its test cannot find (a failed install, a detection that looks in the wrong place) fails the test
 * instead of skipping it unseen; on a developer's machine without the tool the test is skipped, and says so.
 * @module
 */

/**
 * `ignore` for a test that needs a tool: true only where the tool is missing and CI does not require it.
 * Where the tool is missing it prints `why` either way: as the reason for the skip, or as the reason the
 * test is about to fail.
 */
export function skipWithout(available: boolean, why: string): boolean {
  if (available) return false;
  const required = Deno.env.get("SA_MTL_TEST_TOOLS") === "required";
  console.log(
    required ? `MISSING (SA_MTL_TEST_TOOLS=required, so the test runs and fails): ${why}` : `SKIPPED: ${why}`,
  );
  return !required;
}
