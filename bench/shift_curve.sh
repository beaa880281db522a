#!/usr/bin/env bash
# The domain-shift curve of docs/data.md: at each shift, STL emotion trained on synth-emotion and STL pose
# trained on synth-pose (fixed data: --data_seed=1), each scored in domain and on the other dataset's test
# rows against its hidden truth (the teacher's transfer, what pseudo-label methods start from). All runs in
# parallel, one core each.
#
#   bench/shift_curve.sh OUT_DIR [SHIFT...]        (default shifts: 0 0.25 0.5 0.75 1)
#   env: DENO (deno), CLI (runner/main.ts; or the bundle .cache/gpu/cli.js), SIZE (48), EPOCHS (12),
#        TRAIN (2000 training rows), LIMIT (seconds per training run, 0 = none), EXTRA (more run flags)
# Then: deno run -A bench/shift_curve_table.ts OUT_DIR   (the table)
set -u
out=$1
shift
shifts=${*:-0 0.25 0.5 0.75 1}
DENO=${DENO:-deno}
CLI=${CLI:-runner/main.ts}
common="--train_size=${TRAIN:-2000} --val_rows=1000 --test_rows=2000 --data_seed=1 --seed=1 \
--image_size=${SIZE:-48} --epoch=${EPOCHS:-12} --threads=1 --backend=wasm --quiet ${EXTRA:-}"
mkdir -p "$out"
one() { # shift task dataset other-dataset
  local dir=$out/shift$1-$2 limit=()
  [[ ${LIMIT:-0} != 0 ]] && limit=(timeout "$LIMIT")
  "${limit[@]}" "$DENO" run -A "$CLI" run stl --dataset="$3" --task="$2" --domain_shift="$1" $common \
    --out="$dir" >"$dir.train.json" 2>"$dir.err"
  "$DENO" run -A "$CLI" eval --run="$dir" --dataset="$4" --truth=hidden --json --quiet \
    >"$dir.transfer.json" 2>>"$dir.err"
}
for s in $shifts; do
  one "$s" emotion synth-emotion synth-pose &
  one "$s" pose synth-pose synth-emotion &
done
wait
