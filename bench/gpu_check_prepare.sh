#!/usr/bin/env bash
# Prepares .cache/gpu/ for running bench/gpu_check.ts on a GPU machine that has no Deno, no npm
# access and maybe no Vulkan loader: the bundled check (every npm package it imports inside), a
# gzipped Deno binary of this machine, Debian's libvulkan.so.1 when present, and the wasm binaries of
# the CPU-engine parts. About 50 MB.
# Then, on the GPU machine, from the checkout root:
#   gunzip -c .cache/gpu/deno.gz > /tmp/deno && chmod +x /tmp/deno
#   LD_LIBRARY_PATH=.cache/gpu:${LD_LIBRARY_PATH:-} /tmp/deno run -A .cache/gpu/gpu_check.js --out=gpu_check.json
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/gpu
deno bundle --platform=deno -o .cache/gpu/gpu_check.js bench/gpu_check.ts
# The run and eval commands as one file (bench/cli_bundle.ts), for sweeps of independent runs there; resvg
# (figures) stays out, and imagescript's native codec goes beside it, where its loader looks.
deno bundle --platform=deno --external "@resvg/resvg-js" --external "*.node" -o .cache/gpu/cli.js bench/cli_bundle.ts
mkdir -p .cache/gpu/bin
cp node_modules/imagescript/codecs/node/bin/x64-linux.node .cache/gpu/bin/
gzip -c "$(readlink -f "$(command -v deno)")" > .cache/gpu/deno.gz.tmp && mv .cache/gpu/deno.gz.tmp .cache/gpu/deno.gz
# The CPU-engine parts: tfjs' wasm binaries and the kernel pack's, where the bundle looks for them.
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .cache/gpu/
mkdir -p .cache/gpu/wasm && cp kernels/wasm/pack.wasm kernels/wasm/pack-shared.wasm .cache/gpu/wasm/
if [[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ]]; then
  cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 .cache/gpu/libvulkan.so.1
fi
du -sh .cache/gpu
