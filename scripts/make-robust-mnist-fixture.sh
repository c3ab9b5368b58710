#!/usr/bin/env bash
# Regenerates the robust-MNIST fixture of issue 19: the MNIST challenge network (madry-cnn) trained
# at ε = 0.3 on the mnist package's 7,996 training digits (200 held out for the monitor), ε ramped
# over the first RAMP epochs, Adam 1e-3 with a cosine schedule, seed 0. The default recipe —
# TRADES (β = 6) with AWP (γ = 0.005) and weight averaging (EMA, τ = 0.999), 10 KL steps of
# 2.5ε/10 — is the candidate fixtures/bench/robust-mnist.json is there to confirm or replace
# (DEFENSE=…). Each epoch checkpoints next to the output: killed, the same command resumes.
# Hours, not minutes, on two CPU cores: run it under `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-fixtures/models/madry-cnn-robust}"
npx tsx src/cli/index.ts train --arch madry-cnn --data mnist --epochs "${EPOCHS:-40}" --batch-size 64 --lr 0.001 \
  --optimizer adam --schedule cosine --defense "${DEFENSE:-trades=6,awp,ema}" --train-eps 0.3 \
  --train-steps "${STEPS:-10}" --train-step-size 0.25x --train-eps-ramp "${RAMP:-5}" --seed 0 --backend wasm \
  --quiet --out "$OUT"
