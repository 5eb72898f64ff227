"""LSTM throughput: the Go windowed forward pass (models/lstm) vs PyTorch on
the CPU, both on one thread, on one machine, the same weights and the same
1000 windows.

    ~/.cache/tickstream-models/venv/bin/python scripts/models/bench_lstm.py [--seqs 1000] [--repeat 20] [--go-count 3] [--keep DIR]

(the venv is the fixture generator's, made by regen.sh: torch 2.15.0 as
pinned in requirements.txt.)

1. Load models/testdata/lstm/keras_60x5_128.safetensors — the design notes'
   network, 60 × 5 → LSTM(128) → Dense(1) — into nn.LSTM + nn.Linear
   (weight_ih = kernelᵀ, weight_hh = recurrent_kernelᵀ, bias_ih = bias,
   bias_hh = 0) and check it reproduces the fixture's Keras outputs.
2. Draw --seqs windows (seed 20261125, standard normal: the inputs are
   normalised features), time `net(x)` under inference_mode with one
   thread (torch.set_num_threads(1) and OPENBLAS/OMP/MKL_NUM_THREADS=1, set
   before torch is imported): a few warm-up runs, then --repeat timed runs.
3. Write windows.npy and PyTorch's outputs expected.npy to a temporary
   directory and run `go test -bench '^BenchmarkWindowed1000$' -cpu 1`
   in models/lstm with LSTM_BENCH_DIR pointing there: the benchmark first
   checks its outputs equal PyTorch's (1e-5), then times the same windows.
Prints both, ms per batch and GFLOP/s, and Go/PyTorch (time: < 1 means Go
is faster). Not part of any test: it needs torch.
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # before torch (and its BLAS) is imported

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "models/testdata/lstm/keras_60x5_128"
SEED = 20261125


class Net(torch.nn.Module):
    def __init__(self, inputs, units, outputs):
        super().__init__()
        self.lstm = torch.nn.LSTM(inputs, units, batch_first=True)
        self.linear = torch.nn.Linear(units, outputs)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.linear(y[:, -1, :])


def load_keras(path):
    """nn.LSTM + nn.Linear holding the Keras-layout safetensors' weights."""
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata() or {}
        t = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("format") != "keras" or meta.get("recurrent_activation", "sigmoid") != "sigmoid":
        sys.exit(f"{path}: want a Keras export with sigmoid gates, metadata {meta}")
    if "lstm_1/kernel" in t:
        sys.exit(f"{path}: one LSTM layer expected")
    kernel, rec, bias = t["lstm_0/kernel"], t["lstm_0/recurrent_kernel"], t["lstm_0/bias"]
    dense_w, dense_b = t["dense/kernel"], t["dense/bias"]
    net = Net(kernel.shape[0], rec.shape[0], dense_w.shape[1])
    with torch.no_grad():
        # Keras and PyTorch share the gate order (i, f, c/g, o).
        net.lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T.copy()))
        net.lstm.weight_hh_l0.copy_(torch.from_numpy(rec.T.copy()))
        net.lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        net.lstm.bias_hh_l0.zero_()
        net.linear.weight.copy_(torch.from_numpy(dense_w.T.copy()))
        net.linear.bias.copy_(torch.from_numpy(dense_b))
    return net.eval(), int(meta.get("steps", 60))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seqs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=20, help="timed PyTorch runs (≥ 10)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--go-count", type=int, default=3, help="go test -count")
    ap.add_argument("--keep", help="write windows.npy and expected.npy here instead of a temporary dir")
    a = ap.parse_args()
    if a.repeat < 10:
        sys.exit("--repeat: want at least 10 timed runs")
    if a.seqs != 1000:
        sys.exit("--seqs: BenchmarkWindowed1000 scores 1000 windows")
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)

    net, steps = load_keras(FIXTURE.with_suffix(".safetensors"))
    inputs, units = net.lstm.input_size, net.lstm.hidden_size
    fx_in = np.load(str(FIXTURE) + ".inputs.npy")
    fx_want = np.load(str(FIXTURE) + ".expected.npy").reshape(len(fx_in), -1)
    with torch.inference_mode():
        fx_got = net(torch.from_numpy(fx_in)).numpy()
    fx_diff = float(np.abs(fx_got - fx_want).max())
    if fx_diff > 1e-5 * max(1.0, float(np.abs(fx_want).max())):
        sys.exit(f"PyTorch with the Keras weights differs from the fixture's Keras outputs by {fx_diff}")

    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((a.seqs, steps, inputs)).astype(np.float32)
    xt = torch.from_numpy(x)
    times = []
    with torch.inference_mode():
        for _ in range(a.warmup):
            net(xt)
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            y = net(xt)
            times.append(time.perf_counter() - t0)
    want = y.numpy().astype(np.float32)
    flop = a.seqs * steps * 2 * (inputs + units) * 4 * units  # the LSTM's multiply-adds, as the Go benchmark counts

    tmp = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench_lstm."))
    tmp.mkdir(parents=True, exist_ok=True)
    np.save(tmp / "windows.npy", x)
    np.save(tmp / "expected.npy", want)
    go = run_go(tmp, a.go_count)

    py_best, py_med = min(times) * 1e3, statistics.median(times) * 1e3
    go_best = min(r["ms"] for r in go)
    res = {
        "cpu": cpu_name(), "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "torch_mkldnn": torch.backends.mkldnn.is_available(), "seqs": a.seqs, "steps": steps,
        "network": f"{inputs}→LSTM({units})→{net.linear.out_features}", "gflop": flop / 1e9,
        "pytorch_fixture_max_abs_diff": fx_diff,
        "pytorch_ms": {"best": py_best, "median": py_med, "runs": a.repeat},
        "go_runs": go,
        "go_over_pytorch_time": go_best / py_best,
    }
    print(json.dumps(res, indent=2))
    print(f"\n{a.seqs} windows of {steps} × {inputs} → LSTM({units}) → Dense(1), one thread, {flop / 1e9:.2f} GFLOP:")
    print(f"  PyTorch {torch.__version__:>14}: {py_best:8.1f} ms (median {py_med:.1f} of {a.repeat})  "
          f"{flop / (py_best / 1e3) / 1e9:6.1f} GFLOP/s")
    print(f"  Go models/lstm        : {go_best:8.1f} ms (best of {len(go)})            "
          f"{flop / (go_best / 1e3) / 1e9:6.1f} GFLOP/s")
    print(f"  Go/PyTorch time       : {go_best / py_best:8.2f}  (< 1: Go is faster)")
    if not a.keep:
        print(f"(windows and outputs in {tmp}; remove it when done)", file=sys.stderr)


def run_go(dir, count):
    """BenchmarkWindowed1000 on dir's windows: [{ms, gflops}] per run."""
    env = dict(os.environ, LSTM_BENCH_DIR=str(dir))
    cmd = ["go", "test", "-run", "^$", "-bench", "^BenchmarkWindowed1000$", "-count", str(count), "-cpu", "1", "-v",
           "./models/lstm/"]
    out = subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout
    runs = []
    for line in out.splitlines():
        ms = re.search(r"([\d.]+) ms/1000seq", line)
        gf = re.search(r"([\d.]+) GFLOP/s", line)
        if line.startswith("BenchmarkWindowed1000") and ms and gf:
            runs.append({"ms": float(ms.group(1)), "gflops": float(gf.group(1))})
        elif "max |Go − PyTorch|" in line:
            print("go:", line.strip(), file=sys.stderr)
    if not runs:
        sys.exit("no BenchmarkWindowed1000 result in:\n" + out)
    return runs


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
