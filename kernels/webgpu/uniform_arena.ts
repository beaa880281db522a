/**
 * One uniform buffer write per submit instead of one per dispatch. tfjs-webgpu gives every dispatch
 * its own small uniform buffer, filled with `queue.writeBuffer`; in Deno each such call crosses into
 * the WebGPU implementation and costs about as much CPU as recording the dispatch itself (measured:
 * ~0.08 ms of a ~0.3 ms dispatch on the 2-core build machine). Here the backend's `makeUniforms`
 * lays the values out exactly as tfjs does (it calls tfjs' own method, with the write captured) into a
 * 64 KiB host arena, binds them at an aligned offset of one GPU buffer, and the arena is written once,
 * just before the command buffer that reads it is submitted.
 * @module
 */
import type { WebgpuBackendInternals } from "./_dispatch.ts";

interface ArenaBackend extends WebgpuBackendInternals {
  queue: GPUQueue;
  uniformPendingDisposal: GPUBuffer[];
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer; releaseBuffer(b: GPUBuffer): void };
}

const ARENA_BYTES = 64 * 1024;

const installed = new WeakMap<object, () => void>();

/** Installs the arena on a webgpu backend instance (idempotent); returns the uninstaller. */
export function installUniformArena(backend: object): () => void {
  const existing = installed.get(backend);
  if (existing) return existing;
  const b = backend as ArenaBackend;
  const align = b.device.limits.minUniformBufferOffsetAlignment;
  const stockMake = b.makeUniforms;
  const stockSubmit = b.submitQueue;
  let arena: { buffer: GPUBuffer; bytes: Uint8Array<ArrayBuffer>; used: number } | null = null;
  const flush = () => {
    if (!arena) return;
    b.queue.writeBuffer(arena.buffer, 0, arena.bytes, 0, arena.used);
    // Released by tfjs' submitQueue after the submit, like its own uniform buffers.
    b.uniformPendingDisposal.push(arena.buffer);
    arena = null;
  };
  const usage = GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM;
  let captured: Uint8Array | null = null;
  const capture = {
    writeBuffer(_buf: GPUBuffer, _off: number, data: ArrayBuffer, dataOffset = 0, size?: number) {
      captured = new Uint8Array(data, dataOffset, size ?? data.byteLength - dataOffset);
    },
  };
  const make = function (this: ArenaBackend, fields: Parameters<WebgpuBackendInternals["makeUniforms"]>[0]) {
    const queue = this.queue;
    this.queue = capture as unknown as GPUQueue;
    try {
      stockMake.call(this, fields);
    } finally {
      this.queue = queue;
    }
    // tfjs queued its per-dispatch buffer for release; return it to the pool now (never written).
    const own = this.uniformPendingDisposal.pop()!;
    this.bufferManager.releaseBuffer(own);
    const data = captured!;
    captured = null;
    const slot = Math.ceil(data.byteLength / align) * align;
    if (arena && arena.used + slot > ARENA_BYTES) flush();
    if (!arena) {
      arena = {
        buffer: this.bufferManager.acquireBuffer(ARENA_BYTES, usage),
        bytes: new Uint8Array(ARENA_BYTES),
        used: 0,
      };
    }
    const offset = arena.used;
    arena.bytes.set(data, offset);
    arena.used += slot;
    return { buffer: arena.buffer, offset, size: data.byteLength };
  };
  const submit = function (this: ArenaBackend) {
    flush();
    return stockSubmit.call(this);
  };
  b.makeUniforms = make as typeof b.makeUniforms;
  b.submitQueue = submit;
  const uninstall = () => {
    flush();
    b.makeUniforms = stockMake;
    b.submitQueue = stockSubmit;
    installed.delete(backend);
  };
  installed.set(backend, uninstall);
  return uninstall;
}
