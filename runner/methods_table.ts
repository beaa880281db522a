/**
 * The `deno task methods` table: name, aliases, data mode, label strategy, loss terms, reference.
 * @module
 */
import type { MethodPlugin } from "../core/plugin.ts";

/** Render the registered plugins as a fixed-width text table. */
export function methodsTable(plugins: MethodPlugin[]): string {
  const header = ["name", "aliases", "data mode", "label strategy", "loss terms", "reference"];
  const rows = plugins.map((p) => [
    p.name,
    p.aliases.join(", ") || "-",
    p.dataMode,
    p.labels.name,
    ["masked-ce", ...p.loss.terms.map((t) => t.name)].join(" + "),
    p.reference,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
