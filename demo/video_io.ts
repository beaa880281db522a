/**
 * Video frames in and out for the video demo. GIF is read and written with imagescript (npm only);
 * any other container (MP4, AVI, ...) goes through an `ffmpeg` binary when one is installed, with raw
 * RGBA frames piped through stdin/stdout one at a time, so a long video is never held in memory.
 * @module
 */
import { dirname, extname } from "node:path";
import { Frame, GIF } from "imagescript";
import type { RgbaImage } from "../datasets/preprocess.ts";
import { writeFileAtomic } from "../core/fs.ts";

/** One decoded frame (RGBA) with its position and display time. */
export interface VideoFrame extends RgbaImage {
  /** Frame index from 0. */
  index: number;
  /** Display time of this frame in milliseconds. */
  durationMs: number;
}

/** Stream facts a reader knows up front. */
export interface VideoInfo {
  /** Frame width. */
  width: number;
  /** Frame height. */
  height: number;
  /** Frames per second (GIF: from the first frame's delay). */
  fps: number;
  /** How the file is decoded. */
  codec: "gif" | "ffmpeg";
}

/** A source of frames. */
export interface VideoReader {
  /** Size and rate of the stream. */
  info: VideoInfo;
  /** Frames in display order; each is yielded once. */
  frames(): AsyncGenerator<VideoFrame>;
  /** Release the decoder (also done when `frames()` finishes). */
  close(): Promise<void>;
}

/** A sink of frames. */
export interface VideoWriter {
  /** Append one frame (same size as the first). */
  write(frame: RgbaImage, durationMs: number): Promise<void>;
  /** Finish the file (written atomically). */
  close(): Promise<void>;
}

/** True when the path names a GIF (by extension). */
export function isGif(path: string): boolean {
  return extname(path).toLowerCase() === ".gif";
}

let ffmpegCache: boolean | undefined;

/** True when `ffmpeg` and `ffprobe` run (Debian package `ffmpeg`). */
export async function ffmpegAvailable(): Promise<boolean> {
  if (ffmpegCache !== undefined) return ffmpegCache;
  const runs = async (bin: string) => {
    try {
      const r = await new Deno.Command(bin, { args: ["-version"], stdout: "null", stderr: "null" }).output();
      return r.success;
    } catch {
      return false;
    }
  };
  ffmpegCache = (await runs("ffmpeg")) && (await runs("ffprobe"));
  return ffmpegCache;
}

async function requireFfmpeg(path: string): Promise<void> {
  if (!(await ffmpegAvailable())) {
    throw new Error(
      `${path}: reading or writing this format needs ffmpeg (apt-get install ffmpeg); GIF works without it`,
    );
  }
}

async function openGif(path: string, data: Uint8Array): Promise<VideoReader> {
  let gif: GIF;
  try {
    gif = await GIF.decode(data);
  } catch (e) {
    throw new Error(`${path}: not a readable GIF (${(e as Error).message})`);
  }
  if (gif.length === 0) throw new Error(`${path}: the GIF has no frames`);
  const first = gif[0];
  const delay = first.duration > 0 ? first.duration : 100;
  return {
    info: { width: gif.width, height: gif.height, fps: 1000 / delay, codec: "gif" },
    async *frames() {
      for (let i = 0; i < gif.length; i++) {
        const f = gif[i];
        yield { width: f.width, height: f.height, data: f.bitmap, index: i, durationMs: f.duration || delay };
      }
      await Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

function parseRate(s: string | undefined): number {
  if (!s) return 0;
  const [a, b] = s.split("/").map(Number);
  const v = b ? a / b : a;
  return Number.isFinite(v) && v > 0 ? v : 0;
}

async function probe(path: string): Promise<{ width: number; height: number; fps: number }> {
  const r = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "stream=width,height,avg_frame_rate,r_frame_rate",
      "-of",
      "json",
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(
      `${path}: ffprobe cannot read it (${new TextDecoder().decode(r.stderr).trim().split("\n")[0]})`,
    );
  }
  const j = JSON.parse(new TextDecoder().decode(r.stdout)) as {
    streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string }[];
  };
  const s = j.streams?.[0];
  if (!s?.width || !s?.height) throw new Error(`${path}: no video stream`);
  const fps = parseRate(s.avg_frame_rate) || parseRate(s.r_frame_rate) || 25;
  return { width: s.width, height: s.height, fps };
}

async function openFfmpeg(path: string): Promise<VideoReader> {
  await requireFfmpeg(path);
  const { width, height, fps } = await probe(path);
  const frameBytes = width * height * 4;
  const child = new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    if (!child.stdout.locked) await child.stdout.cancel().catch(() => {});
    await child.status;
    await stderrText.catch(() => "");
  };
  return {
    info: { width, height, fps, codec: "ffmpeg" },
    async *frames() {
      const reader = child.stdout.getReader();
      // One frame buffer at a time: chunks are copied in until a frame is complete.
      let buf = new Uint8Array(frameBytes);
      let fill = 0;
      let index = 0;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          let off = 0;
          while (off < value.length) {
            const n = Math.min(frameBytes - fill, value.length - off);
            buf.set(value.subarray(off, off + n), fill);
            fill += n;
            off += n;
            if (fill === frameBytes) {
              yield { width, height, data: buf, index: index++, durationMs: 1000 / fps };
              buf = new Uint8Array(frameBytes);
              fill = 0;
            }
          }
        }
        const status = await child.status;
        closed = true;
        if (!status.success) {
          throw new Error(`${path}: ffmpeg failed (${(await stderrText).trim().split("\n")[0]})`);
        }
      } finally {
        // Stopping early (the consumer broke out of the loop): drop the rest of ffmpeg's output.
        await reader.cancel().catch(() => {});
        reader.releaseLock();
        await close();
      }
    },
    close,
  };
}

/** Open a video: GIF with imagescript, anything else with ffmpeg. */
export async function openVideo(path: string): Promise<VideoReader> {
  if (isGif(path)) {
    let data: Uint8Array;
    try {
      data = await Deno.readFile(path);
    } catch (e) {
      throw new Error(`--input=${path}: cannot read the file (${(e as Error).message})`);
    }
    return await openGif(path, data);
  }
  try {
    await Deno.stat(path);
  } catch (e) {
    throw new Error(`--input=${path}: cannot read the file (${(e as Error).message})`);
  }
  return await openFfmpeg(path);
}

/** Options of {@link createVideoWriter}. */
export interface WriterOptions {
  /** Frame width. */
  width: number;
  /** Frame height. */
  height: number;
  /** Frames per second. */
  fps: number;
}

function gifWriter(path: string, opts: WriterOptions): VideoWriter {
  // imagescript encodes a GIF in one call, so its frames are kept until close (GIFs are short).
  const frames: Frame[] = [];
  return {
    write(f: RgbaImage, durationMs: number) {
      if (f.width !== opts.width || f.height !== opts.height) {
        throw new Error(
          `${path}: frame ${frames.length} is ${f.width}x${f.height}, expected ${opts.width}x${opts.height}`,
        );
      }
      const fr = new Frame(f.width, f.height, Math.max(10, Math.round(durationMs)));
      fr.bitmap.set(f.data);
      frames.push(fr);
      return Promise.resolve();
    },
    async close() {
      if (frames.length === 0) throw new Error(`${path}: no frames to write`);
      await writeFileAtomic(path, await new GIF(frames).encode());
    },
  };
}

async function ffmpegWriter(path: string, opts: WriterOptions): Promise<VideoWriter> {
  await requireFfmpeg(path);
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp${extname(path)}`;
  const child = new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-y",
      "-f",
      "rawvideo",
      "-pix_fmt",
      "rgba",
      "-s",
      `${opts.width}x${opts.height}`,
      "-r",
      String(opts.fps),
      "-i",
      "-",
      // yuv420p needs even sides.
      "-vf",
      "pad=ceil(iw/2)*2:ceil(ih/2)*2",
      "-pix_fmt",
      "yuv420p",
      tmp,
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const writer = child.stdin.getWriter();
  let count = 0;
  return {
    async write(f: RgbaImage) {
      if (f.width !== opts.width || f.height !== opts.height) {
        throw new Error(
          `${path}: frame ${count} is ${f.width}x${f.height}, expected ${opts.width}x${opts.height}`,
        );
      }
      await writer.write(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength));
      count++;
    },
    async close() {
      await writer.close();
      const status = await child.status;
      const err = await stderrText;
      if (!status.success) {
        await Deno.remove(tmp).catch(() => {});
        throw new Error(`${path}: ffmpeg failed to encode (${err.trim().split("\n")[0]})`);
      }
      await Deno.rename(tmp, path);
    },
  };
}

/** Create a writer: GIF with imagescript, anything else (e.g. `.mp4`) with ffmpeg. */
export async function createVideoWriter(path: string, opts: WriterOptions): Promise<VideoWriter> {
  if (isGif(path)) return gifWriter(path, opts);
  return await ffmpegWriter(path, opts);
}
