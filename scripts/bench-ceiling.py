#!/usr/bin/python3
"""PyTorch side of test/bench/ceiling.ts: the same matMul and convolutions, timed on its threads.

    /usr/bin/python3 scripts/bench-ceiling.py SPEC.json [--threads 1] [--runs 5] [--seconds 0.2] [--cnn]

SPEC.json is a list of measures, each {"name", "kind": "matmul", "a": [M, K], "b": [K, N]} or
{"name", "kind": "conv", "x": [N, H, W, Ci], "filter": [fh, fw, Ci, Co], "pad": [top, bottom,
left, right], "dilation": [dh, dw]} in tfjs's (NHWC) terms; the convolutions run as PyTorch's own
NCHW conv2d (stride 1, the same symmetric padding) on random data, under no_grad. Each measure is
repeated until one timing spans --seconds, --runs times; prints one JSON object with every
timing (wall and process CPU time, ms per call) and what PyTorch was built with.

--cnn: also times the mnist-cnn of scripts/bench-torch.py (random weights, batch 128): a forward
pass, an input gradient and an Adam training step, as "cnn": {task: {"wallMs", "cpuMs"}}. On the
VMs of our sessions these depend on how glibc hands out large buffers (a fresh mmap per tensor
costs a page fault per 4 KB): compare a run with MALLOC_MMAP_THRESHOLD_ set in the environment.
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F


def build(spec):
    """A no-argument function doing the measure's arithmetic once."""
    g = torch.Generator().manual_seed(0)
    if spec["kind"] == "matmul":
        a = torch.randn(*spec["a"], generator=g)
        b = torch.randn(*spec["b"], generator=g)
        return lambda: torch.matmul(a, b)
    n, h, w, ci = spec["x"]
    fh, fw, _, co = spec["filter"]
    top, bottom, left, right = spec["pad"]
    if top != bottom or left != right:
        raise SystemExit(f"{spec['name']}: PyTorch's conv2d pads symmetrically, got {spec['pad']}")
    x = torch.randn(n, ci, h, w, generator=g)
    k = torch.randn(co, ci, fh, fw, generator=g)
    dilation = tuple(spec.get("dilation", [1, 1]))
    return lambda: F.conv2d(x, k, padding=(top, left), dilation=dilation)


def loaded_libraries(words=("blas", "dnnl", "mkl", "omp")):
    """The math libraries this process mapped (which BLAS the system's alternatives point at)."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if p.startswith("/") and any(w in os.path.basename(p).lower() for w in words):
                    found.add(os.path.realpath(p))
    except OSError:
        pass
    return sorted(found)


def measure(fn, runs, seconds):
    """Calls per timing so that one timing spans `seconds`; then `runs` timings (ms per call)."""
    fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - t0 >= seconds:
            break
        reps *= 2
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(reps):
            fn()
        wall.append((time.perf_counter() - t0) * 1000 / reps)
        # process_time: CPU of all of PyTorch's threads, not inflated by waiting for a core.
        cpu.append((time.process_time() - c0) * 1000 / reps)
    return {"calls": reps, "wallMs": wall, "cpuMs": cpu}


def _bench_torch():
    """scripts/bench-torch.py as a module (its name has a hyphen): the one MnistCnn definition."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_torch", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-torch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MnistCnn = _bench_torch().MnistCnn


def cnn_tasks():
    torch.manual_seed(0)
    model = MnistCnn()
    x = torch.rand(128, 1, 28, 28)
    y = torch.randint(0, 10, (128,))
    opt = torch.optim.Adam(model.parameters())

    def forward():
        with torch.no_grad():
            model(x)

    def grad():
        xx = x.clone().requires_grad_(True)
        F.cross_entropy(model(xx), y).backward()

    def train():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return {"forward": forward, "input gradient": grad, "training step": train}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spec")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.2)
    p.add_argument("--cnn", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.spec) as f:
        specs = json.load(f)
    config = torch.__config__.show()
    keep = ("CPU capability", "BLAS", "USE_MKLDNN", "USE_OPENMP", "LAPACK")
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "config": [line.strip() for line in config.splitlines() if any(k in line for k in keep)],
    }
    results = []
    with torch.no_grad():
        for spec in specs:
            results.append({"name": spec["name"], **measure(build(spec), args.runs, args.seconds)})
    cnn = {}
    if args.cnn:
        for name, fn in cnn_tasks().items():
            cnn[name] = measure(fn, args.runs, args.seconds)
    print(json.dumps({**info, "libraries": loaded_libraries(), "results": results, "cnn": cnn}))


if __name__ == "__main__":
    main()
