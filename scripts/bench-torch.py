#!/usr/bin/python3
"""PyTorch side of `npm run bench` (test/bench/run.ts): the same mnist-cnn, weights and digits.

    /usr/bin/python3 scripts/bench-torch.py DIR [--threads 2] [--serve | --runs N]

DIR (written by run.ts) holds manifest.json, the tfjs weights as raw little-endian float32 (one
file each, tfjs layout), the PGD images (float32, NHWC) and labels (int32), and the logits tfjs
computed for the first batch. The network is rebuilt in NCHW; the logits must equal tfjs's to
1e-4 before anything is timed.

--serve: answers one JSON line per request line on stdin, {"task": "forward" | "grad" | "pgd" |
"train", "images": n}, with {"ms": t}, so that the caller can alternate PyTorch and its own runs
one by one on a shared, noisy machine. Without --serve: times each task --runs times and prints
one JSON object.

--model mobilenet_v2 [--batch 16 --eps E --steps 10]: instead, torchvision.models.mobilenet_v2
with random weights (eval mode) on a seeded random batch of 224×224 RGB images in [0, 1] (the
MobileNetV2 rows of the bench; DIR is not read); tasks forward, grad and pgd (one batch).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def load(folder, entry, dtype):
    with open(os.path.join(folder, entry["file"]), "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=dtype).reshape(entry["shape"]).clone()


class MnistCnn(torch.nn.Module):
    """conv 32·3×3 relu → max-pool 2 → conv 64·3×3 relu → max-pool 2 → dense 128 relu → dense 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3)
        self.conv2 = torch.nn.Conv2d(32, 64, 3)
        self.fc1 = torch.nn.Linear(1600, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def build(folder, manifest):
    """The tfjs weights in PyTorch layouts."""
    w = [load(folder, e, torch.float32) for e in manifest["weights"]]
    if [tuple(t.shape) for t in w] != [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (1600, 128), (128,), (128, 10), (10,)]:
        raise SystemExit(f"unexpected weight shapes {[tuple(t.shape) for t in w]}: not the mnist-cnn")
    model = MnistCnn()
    with torch.no_grad():
        # Conv kernels: tfjs [kh, kw, in, out] → torch [out, in, kh, kw].
        model.conv1.weight.copy_(w[0].permute(3, 2, 0, 1))
        model.conv1.bias.copy_(w[1])
        model.conv2.weight.copy_(w[2].permute(3, 2, 0, 1))
        model.conv2.bias.copy_(w[3])
        # tfjs flattens NHWC [5, 5, 64] (row (h·5 + w)·64 + c of the kernel), torch NCHW [64, 5, 5]
        # (column c·25 + h·5 + w of the weight): reorder the rows to channel-major, then transpose.
        model.fc1.weight.copy_(w[4].reshape(5, 5, 64, 128).permute(2, 0, 1, 3).reshape(1600, 128).t())
        model.fc1.bias.copy_(w[5])
        model.fc2.weight.copy_(w[6].t())
        model.fc2.bias.copy_(w[7])
    return model


def serve(args, tasks, info, default_images):
    """--serve: one timed task per request line; otherwise --runs timings of each task."""

    def timed(task, n):
        # process_time: CPU time of all of PyTorch's threads, which waiting for a core does not inflate.
        t0, c0 = time.perf_counter(), time.process_time()
        tasks[task](n)
        return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000

    info = {**info, "interopThreads": torch.get_num_interop_threads(), "python": sys.executable}
    if args.serve:
        print(json.dumps(info), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                ms, cpu_ms = timed(req["task"], int(req.get("images", default_images)))
                print(json.dumps({"ms": ms, "cpuMs": cpu_ms}), flush=True)
            except Exception as err:  # reported to the caller, which decides
                print(json.dumps({"error": f"{type(err).__name__}: {err}"}), flush=True)
        return
    results = {}
    for task in tasks:
        timed(task, default_images)  # warm-up
        times = [timed(task, default_images)[0] for _ in range(args.runs)]
        results[task] = {"medianMs": statistics.median(times), "minMs": min(times), "runs": times}
    print(json.dumps({**info, "results": results}, indent=2))


def mobilenet(args):
    import torchvision

    model = torchvision.models.mobilenet_v2(weights=None).eval()
    params = sum(p.numel() for p in model.parameters())
    gen = torch.Generator().manual_seed(0)
    batch, eps, steps = args.batch, args.eps, args.steps
    alpha = 2.5 * eps / steps
    x = torch.rand(batch, 3, 224, 224, generator=gen)
    y = torch.randint(0, 1000, (batch,), generator=gen)

    def input_grad(xb):
        xb = xb.clone().requires_grad_(True)
        loss = F.cross_entropy(model(xb), y, reduction="sum")
        return torch.autograd.grad(loss, xb)[0]

    def forward(_n):
        with torch.no_grad():
            model(x)

    def grad(_n):
        input_grad(x)

    def pgd(_n):
        xa = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp_(0, 1)
        for _ in range(steps):
            g = input_grad(xa)
            xa = torch.min(torch.max(xa + alpha * g.sign(), x - eps), x + eps).clamp_(0, 1)
        with torch.no_grad():
            model(xa).argmax(1)

    info = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "logitsMaxDiff": None, "params": params}
    serve(args, {"forward": forward, "grad": grad, "pgd": pgd}, info, batch)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--model", choices=["mnist-cnn", "mobilenet_v2"], default="mnist-cnn")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--eps", type=float, default=8 / 255)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == "mobilenet_v2":
        mobilenet(args)
        return

    with open(os.path.join(args.folder, "manifest.json")) as f:
        manifest = json.load(f)
    batch, eps, steps = manifest["batch"], manifest["eps"], manifest["steps"]
    alpha = manifest["stepSize"]
    # NHWC → NCHW once; the images are then contiguous in PyTorch's layout.
    images = load(args.folder, manifest["images"], torch.float32).permute(0, 3, 1, 2).contiguous()
    labels = load(args.folder, manifest["labels"], torch.int32).long()
    tf_logits = load(args.folder, manifest["logits"], torch.float32)

    model = build(args.folder, manifest).eval()
    trained = build(args.folder, manifest).train()
    x, y = images[:batch], labels[:batch]

    with torch.no_grad():
        diff = (model(x) - tf_logits).abs().max().item()
    scale = max(1.0, tf_logits.abs().max().item())
    if not diff / scale <= 1e-4:
        raise SystemExit(f"PyTorch logits differ from tfjs's by {diff} (scale {scale}): the weight conversion is wrong")

    def forward(_n):
        with torch.no_grad():
            model(x)

    def input_grad(xb, yb):
        xb = xb.clone().requires_grad_(True)
        loss = F.cross_entropy(model(xb), yb, reduction="sum")
        return torch.autograd.grad(loss, xb)[0]

    def grad(_n):
        input_grad(x, y)

    def pgd(n):
        # Madry et al.: uniform start in the ε-ball, signed steps, projection onto ball and box.
        for start in range(0, n, batch):
            x0, yb = images[start:min(n, start + batch)], labels[start:min(n, start + batch)]
            xa = (x0 + torch.empty_like(x0).uniform_(-eps, eps)).clamp_(0, 1)
            for _ in range(steps):
                g = input_grad(xa, yb)
                xa = torch.min(torch.max(xa + alpha * g.sign(), x0 - eps), x0 + eps).clamp_(0, 1)
            with torch.no_grad():
                model(xa).argmax(1)

    optimizer = torch.optim.Adam(trained.parameters(), lr=1e-3)

    def train(_n):
        optimizer.zero_grad()
        loss = F.cross_entropy(trained(x), y)
        loss.backward()
        optimizer.step()

    tasks = {"forward": forward, "grad": grad, "pgd": pgd, "train": train}
    info = {
        "ready": True,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "logitsMaxDiff": diff,
    }
    serve(args, tasks, info, labels.shape[0] if not args.serve else batch)


if __name__ == "__main__":
    main()
