#!/usr/bin/env bash
# Recompute the `book` profile's result records (resumable: finished runs are skipped).
# Order: what the book's claims need first. Takes hours on a 2-core laptop; run it in the
# background and rerun it after an interruption. Usage: bash scripts/book_sweep.sh [rating|ranking]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
HMF="${HMF:-.venv/bin/hmf}"
export OPENBLAS_NUM_THREADS=1  # the NumPy baselines run one per core
# Each step prints its wall time (runs already recorded are skipped, so a resumed step is quick).
# One worker process per core unless HMF_WORKERS says otherwise (the records do not depend on it:
# benchmarks/time_book_sweep.py reran ML-100K with two workers and got the committed ones exactly).
sweep() {
  local start=$SECONDS
  "$HMF" sweep --profile book --workers "${HMF_WORKERS:-$(nproc)}" "$@"
  echo "book_sweep: $* - $((SECONDS - start)) s wall" >&2
}

rating() {
  sweep --dataset ml-100k --model mf --model hmf --model ihsr --model ref-mf-biased --model ref-mf
  sweep --dataset ciao --model mf --model hmf
  sweep --dataset ml-100k --model etree
  sweep --dataset ciao --model ihsr --model ref-mf-biased --model ref-mf --model etree
  sweep --study depth --dataset ml-100k --dataset ciao --model hmf
  sweep --dataset ml-1m --model mf --model hmf --model ihsr --model etree
  sweep --study depth --dataset ml-1m --model hmf
}

ranking() {
  sweep --dataset ml-100k-implicit --model bpr-mf --model bpr-hmf --model neumf --model protomf
  sweep --study depth --dataset ml-100k-implicit --model bpr-hmf
  # ours: the sparser Ciao substitute, then both substitutes' selections and the baselines under
  # the sampled and the full ranking protocol (the full-ranking study)
  sweep --dataset ciao-implicit --model bpr-mf --model neumf --model bpr-hmf --model protomf
  sweep --study depth --dataset ciao-implicit --model bpr-hmf
  sweep --study full-ranking --dataset ml-100k-implicit --dataset ciao-implicit \
    --model most-popular --model ease --model bpr-mf --model neumf --model protomf --model bpr-hmf
}

case "${1:-all}" in
  rating) rating ;;
  ranking) ranking ;;
  all) rating; ranking ;;
  *) echo "usage: $0 [rating|ranking|all]" >&2; exit 2 ;;
esac
