/**
 * Whether a test that needs an outside tool (ffmpeg, Vulkan, Slurm, OpenCV's cascades, the npm registry) may be
 * skipped where the tool is missing. `.ci/run` installs every such tool and then sets `SA_MTL_TEST_TOOLS=required`,
 * so in CI a tool its test cannot find (a failed install, a detection that looks in the wrong place) fails the
 * test instead of skipping it unseen; on a developer's machine without the tool the test is skipped as before.
 * @module
 */

/** `ignore` for a test that needs a tool: true only where the tool is missing and CI does not require it. */
export function skipWithout(available: boolean): boolean {
  return !available && Deno.env.get("SA_MTL_TEST_TOOLS") !== "required";
}
