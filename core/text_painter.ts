/**
 * Text on images (demo annotations, the synthetic contact sheet, report figures): one TTF font,
 * rendered with imagescript and cached per string. A base-layer utility so that datasets/ and demo/
 * share it without importing each other.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Image } from "imagescript";

/** Where the default TTF font lives: the `dejavu-fonts-ttf` npm package, else Debian's copy. */
export function defaultFontPath(): string {
  const candidates: string[] = [];
  try {
    const require = createRequire(import.meta.url);
    candidates.push(join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf", "DejaVuSans.ttf"));
  } catch { /* package not installed: try the system font */ }
  candidates.push("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch { /* next */ }
  }
  throw new Error(
    `no TTF font found (looked at ${candidates.join(", ")}); run \`deno install\` or give --font=FILE`,
  );
}

/**
 * imagescript's text renderer calls `Deno.core.encode`, which Deno 2 no longer exposes; provide it
 * from the standard encoders before the first call.
 */
function ensureDenoCoreShim(): void {
  const d = Deno as unknown as { core?: { encode?: unknown; decode?: unknown } };
  if (d.core && typeof d.core.encode === "function" && typeof d.core.decode === "function") return;
  const enc = new TextEncoder(), dec = new TextDecoder();
  const shim = {
    encode: (s: string) => enc.encode(s),
    decode: (b: Uint8Array) => dec.decode(b),
  };
  if (d.core) Object.assign(d.core, shim);
  else Object.defineProperty(Deno, "core", { value: shim, configurable: true, writable: true });
}

/** Renders text lines with one font, caching rendered strings (parsing the font costs ~40 ms a call). */
export class TextPainter {
  #font: Uint8Array;
  #cache = new Map<string, Image>();

  /** Use the font bytes given (TTF/OTF). */
  constructor(font: Uint8Array) {
    if (font.length === 0) throw new Error("empty font file");
    this.#font = font;
    ensureDenoCoreShim();
  }

  /** Load a font file (default: {@link defaultFontPath}). */
  static async load(path?: string): Promise<TextPainter> {
    const p = path ?? defaultFontPath();
    try {
      return new TextPainter(await Deno.readFile(p));
    } catch (e) {
      throw new Error(`font ${p}: ${(e as Error).message}`);
    }
  }

  /** Render one line (cached by text, size and colour). */
  async render(text: string, size: number, color: number): Promise<Image> {
    const key = `${size}|${color}|${text}`;
    let img = this.#cache.get(key);
    if (!img) {
      img = await Image.renderText(this.#font, size, text, color);
      if (this.#cache.size > 512) this.#cache.clear();
      this.#cache.set(key, img);
    }
    return img;
  }
}
