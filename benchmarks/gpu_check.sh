#!/usr/bin/env bash
# One accelerator session, prepared: every GPU figure of book/performance.md and the records
# trained there come from this script. Steps run in order of priority, each under a time cap,
# all inside one budget, so that what finished is packed before the budget ends.
#
#   HMF_DATA_DIR=/path/to/datasets OUT=/where/to/put/log-and-records \
#       bash benchmarks/gpu_check.sh [BUDGET_SECONDS]
#
# Writes $OUT/log.txt (every step's output) and $OUT/records.tgz (the records the sweeps wrote
# under results/, to unpack at the repository root). Records are written as each vectorised
# group finishes, so a step stopped by its cap keeps its finished groups; a rerun resumes - from
# the records it can see: unpack records.tgz into the working tree before the next device call.
# STEPS="name ..." runs only the named steps (a later session skips what an earlier one measured).
set -u
budget=${1:-530}
out=${OUT:-gpu-out}
mkdir -p "$out"
log="$out/log.txt"
start=$(date +%s)
marker=$(mktemp)
export PYTHONUNBUFFERED=1
# f32 matrix products in full f32 (no TF32), as on the CPU, so records are comparable
export JAX_DEFAULT_MATMUL_PRECISION=highest
py=${PYTHON:-python3}
# Deterministic GPU kernels: without them, scatter-adds summed by atomics left 149 of 300 repeated
# runs differing in the last bits (book/performance.md). An XLA that does not know the flag aborts,
# so it is tried first and dropped, with a note in the log, where it is refused.
det="--xla_gpu_deterministic_ops=true"
if XLA_FLAGS="${XLA_FLAGS:-} $det" $py -c 'import jax.numpy as jnp; jnp.zeros(1).block_until_ready()' >/dev/null 2>&1; then
  export XLA_FLAGS="${XLA_FLAGS:-} $det"
else
  echo "== note: this JAX refuses $det; running without deterministic GPU kernels" | tee -a "$log"
fi

step() {  # step NAME CAP COMMAND...: at most CAP s, and never into the last 30 s (packing)
  local name=$1 cap=$2
  shift 2
  if [[ -n "${STEPS:-}" && " $STEPS " != *" $name "* ]]; then return; fi
  local t=$((budget - ($(date +%s) - start) - 30))
  ((t > cap)) && t=$cap
  if ((t < 15)); then echo "== $name: skipped, budget spent" | tee -a "$log"; return; fi
  echo "== $name: at most ${t} s, from $(date +%T)" | tee -a "$log"
  local s=$(date +%s)
  timeout -k 5 "$t" "$@" >>"$log" 2>&1
  echo "== $name: exit $? after $(($(date +%s) - s)) s" | tee -a "$log"
  pack
}

pack() {  # the records written so far, replaced atomically (a kill never leaves half an archive)
  find results -type f -newer "$marker" -print0 | tar czf "$out/.records.tgz" --null -T -
  mv "$out/.records.tgz" "$out/records.tgz"
}

step machine 30 bash -c "nvidia-smi -L; $py -c 'from hmf.experiments.records import describe_machine as d; print(d())'"
step repeat 45 $py benchmarks/bench_repeat.py
step vectorized-ml100k 150 $py benchmarks/bench_vectorized.py --sample 3
step step-times 60 $py benchmarks/bench_step.py --datasets ml-100k ml-1m
step book-ml1m-hmf 150 $py -m hmf sweep --profile book --dataset ml-1m --model hmf --vectorize --workers 1
step book-ml1m-depth 120 $py -m hmf sweep --profile book --dataset ml-1m --model hmf --study depth --vectorize --workers 1
# --reuse book: the book's runs (same caps, patience and seeds) count as done, so the device
# trains only the rest of Table 2
step paper-mf-hmf 600 $py -m hmf sweep --profile paper --dataset ml-100k --dataset ciao --model mf --model hmf --vectorize --workers 1 --reuse book

echo "== packed $(tar tzf "$out/records.tgz" | wc -l) new records; total $(($(date +%s) - start)) s" | tee -a "$log"
