/**
 * Per-epoch progress: a throttled bar (steps, loss per head, img/s, ETA) on a TTY, one line per
 * epoch otherwise, nothing with `--quiet`.
 * @module
 */

/** Progress reporter for one outer epoch. */
export class Progress {
  #total: number;
  #label: string;
  #start = performance.now();
  #last = 0;
  #images = 0;
  #tty: boolean;
  #quiet: boolean;
  #losses: Record<string, number> = {};

  constructor(label: string, totalSteps: number, opts: { quiet?: boolean; tty?: boolean } = {}) {
    this.#label = label;
    this.#total = totalSteps;
    this.#quiet = opts.quiet ?? false;
    this.#tty = opts.tty ?? Deno.stderr.isTerminal();
  }

  /** Record a finished step. */
  step(step: number, images: number, losses: Record<string, number>): void {
    this.#images += images;
    for (const [k, v] of Object.entries(losses)) {
      this.#losses[k] = this.#losses[k] === undefined ? v : 0.9 * this.#losses[k] + 0.1 * v;
    }
    if (this.#quiet || !this.#tty) return;
    const now = performance.now();
    if (now - this.#last < 250 && step < this.#total) return;
    this.#last = now;
    const width = 24;
    const done = Math.round((step / this.#total) * width);
    const bar = "#".repeat(done) + "-".repeat(width - done);
    const line = `${this.#label} [${bar}] ${step}/${this.#total} ${this.#stats(step)}`;
    Deno.stderr.writeSync(new TextEncoder().encode(`\r${line.slice(0, 160)}\x1b[K`));
  }

  #stats(step: number): string {
    const sec = (performance.now() - this.#start) / 1000;
    const ips = this.#images / Math.max(sec, 1e-9);
    const eta = step > 0 ? (sec / step) * (this.#total - step) : 0;
    const losses = Object.entries(this.#losses).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(" ");
    return `${losses} | ${ips.toFixed(1)} img/s | ${sec.toFixed(0)}s ETA ${eta.toFixed(0)}s`;
  }

  /** Finish the epoch with a summary line. */
  done(summary: string): void {
    if (this.#quiet) return;
    const text = `${this.#label} ${this.#stats(this.#total)} ${summary}`;
    if (this.#tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r${text}\x1b[K\n`));
    else console.error(text);
  }

  /** Images per second so far. */
  imagesPerSecond(): number {
    return this.#images / Math.max((performance.now() - this.#start) / 1000, 1e-9);
  }
}
