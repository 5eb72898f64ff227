"""GBT throughput: the Go predictor vs xgboost's own inplace_predict, both
single-threaded, on one machine, the same model and the same rows.

    ~/.cache/tickstream-models/venv/bin/python scripts/models/bench_xgb.py [--rows 20000] [--trees 500] [--depth 6] [--keep DIR [--reuse]]

1. `go run ./scripts/models/dumpfeatures` (the serving feature code; 13
   features) → train a regression booster (--trees, --depth, hist) on the
   training symbols and save it as JSON in a temporary directory, with
   --rows test rows (float32, missing values as NaN) as inputs.npy.
2. Time xgboost 3.x `Booster.inplace_predict` with nthread=1: one row per
   call (the stream's worst case: a batch of one) and all rows in one call.
3. `go run ./scripts/models/benchxgb -dir TMP`: the Go predictor
   (models/xgboost) on the same file and rows, one row per call and
   batched; it checks its outputs equal xgboost's.
Prints both, per row, and the ratio (xgboost time / Go time: > 1 means Go
is faster). Nothing is committed: the model lives in the temporary dir.
--keep DIR keeps it; --reuse then times the model and rows already in DIR
instead of training again, and `TICKSTREAM_XGB_BENCH_DIR=DIR go test
-bench PredictBatch ./models/xgboost` runs the Go side as a benchmark.

xgboost runs on one thread: nthread=1, and OMP_NUM_THREADS=1 set before it
is imported (its OpenMP pool would otherwise size itself to the machine).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SEED = 20261125
TRAIN_SYMBOLS = 14


def best_of(fn, repeat):
    """Fastest of repeat runs, in seconds: the least disturbed one."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--trees", type=int, default=500)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", help="write the model and rows here instead of a temporary dir")
    ap.add_argument("--reuse", action="store_true", help="with --keep: time the model and rows already there")
    a = ap.parse_args()
    if a.reuse and not a.keep:
        ap.error("--reuse needs --keep DIR")

    tmp = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench_xgb."))
    tmp.mkdir(parents=True, exist_ok=True)
    model = tmp / f"gbt_{a.trees}x{a.depth}.json"
    if a.reuse:
        b = xgb.Booster(model_file=str(model))
        rows = np.load(tmp / "inputs.npy")
        names, train_s = b.feature_names or [""] * b.num_features(), 0.0
    else:
        b, rows, names, train_s = train(a, tmp, model)
    time_both(a, tmp, model, b, rows, names, train_s)
    if not a.keep:
        print(f"(model and rows in {tmp}; remove it when done)", file=sys.stderr)


def train(a, tmp, model):
    """Dump the features, train, save the model and the test rows."""
    dump = tmp / "dump"
    subprocess.run(["go", "run", "./scripts/models/dumpfeatures", "-out", str(dump)], cwd=REPO, check=True)
    X = np.load(dump / "features.npy")
    y = np.load(dump / "label.npy") * 1e4
    sym = np.load(dump / "symbol.npy")
    names = json.loads((dump / "meta.json").read_text())["feature_names"]
    ok = np.isfinite(y)
    is_train, is_test = ok & (sym < TRAIN_SYMBOLS), sym >= TRAIN_SYMBOLS

    t0 = time.perf_counter()
    dtrain = xgb.DMatrix(X[is_train], np.clip(y[is_train], -50, 50), feature_names=names, missing=np.nan)
    # max_depth alone lets hist stop early on a branch; min_child_weight 0
    # and no regularisation of splits grow every tree to full depth.
    params = {"objective": "reg:squarederror", "max_depth": a.depth, "tree_method": "hist", "seed": SEED,
              "min_child_weight": 0, "gamma": 0, "eta": 0.05, "nthread": os.cpu_count()}
    b = xgb.train(params, dtrain, a.trees)
    b.set_attr(horizon="10s", target="log_return_bps")
    train_s = time.perf_counter() - t0
    b.save_model(str(model))

    rows = X[is_test][: a.rows].astype(np.float32)
    rows = np.ascontiguousarray(np.resize(rows, (a.rows, rows.shape[1])))  # repeat if the test set is short
    np.save(tmp / "inputs.npy", rows)
    return b, rows, names, train_s


def time_both(a, tmp, model, b, rows, names, train_s):
    """Time xgboost and Go on the same model and rows; print both."""
    b.set_param({"nthread": 1})
    want = b.inplace_predict(rows).astype(np.float32)
    np.save(tmp / "expected.npy", want)
    leaves = sum(t.count("leaf=") for t in b.get_dump())

    n = len(rows)
    one = [rows[i: i + 1] for i in range(n)]

    def per_row():
        for r in one:
            b.inplace_predict(r)

    py_row = best_of(per_row, a.repeat) / n
    py_batch = best_of(lambda: b.inplace_predict(rows), a.repeat) / n

    out = subprocess.run(["go", "run", "./scripts/models/benchxgb", "-dir", str(tmp), "-model", model.name,
                          "-repeat", str(a.repeat)], cwd=REPO, check=True, capture_output=True, text=True)
    go = json.loads(out.stdout)
    res = {
        "xgboost": xgb.__version__, "trees": a.trees, "depth": a.depth, "leaves": leaves, "rows": n,
        "features": len(names), "train_s": round(train_s, 1), "model_bytes": model.stat().st_size,
        "cpu": cpu_name(), "max_abs_diff": go["max_abs_diff"], "rows_not_bit_identical": go["rows_differ"],
        "ns_per_row": {"xgboost_one_row": py_row * 1e9, "xgboost_batched": py_batch * 1e9,
                       "go_one_row": go["one_row_ns"], "go_batched": go["batched_ns"]},
        "ratio_xgboost_over_go": {"one_row": py_row * 1e9 / go["one_row_ns"],
                                  "batched": py_batch * 1e9 / go["batched_ns"]},
    }
    print(json.dumps(res, indent=2))
    print(f"\n{a.trees} trees depth {a.depth}, {n} rows, single-threaded, ns per row:")
    print(f"  one row per call: xgboost {py_row * 1e9:10.0f}   Go {go['one_row_ns']:10.0f}   "
          f"xgboost/Go {res['ratio_xgboost_over_go']['one_row']:.2f}")
    print(f"  batched:          xgboost {py_batch * 1e9:10.0f}   Go {go['batched_ns']:10.0f}   "
          f"xgboost/Go {res['ratio_xgboost_over_go']['batched']:.2f}")


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


if __name__ == "__main__":
    main()
