#!/usr/bin/env python3
"""Regenerate models/testdata: small models trained with the real xgboost,
Keras and PyTorch on the features Go computes, the inputs the parity tests
feed them, and the outputs the frameworks' own predict/forward give.

Run through scripts/models/regen.sh (it makes the pinned virtualenvs). By
hand, from the repository root, in a venv with requirements.txt:
    XGB2_PYTHON=/path/to/xgb2-venv/bin/python python scripts/models/gen_fixtures.py
With --only lightgbm it regenerates models/testdata/lightgbm alone (its own
manifest there) and leaves every other fixture as it is.

Everything is seeded and single-threaded, so a rerun with the same pinned
versions writes the same models (the manifest's timestamp aside).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import torch  # noqa: E402
import xgboost as xgb  # noqa: E402
import keras  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_keras import export_keras  # noqa: E402
from export_torch import export_torch  # noqa: E402
from gen_lightgbm import lightgbm_models  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "models" / "testdata"
SEED = 20261125
# Symbols [0, TRAIN_SYMBOLS) train, the rest test. A split by symbol, not
# by time: the dump spans under two hours, so a time split would put the
# test set at times of day the models never saw (tod_sin, tod_cos).
TRAIN_SYMBOLS = 14
# Regression labels are clipped for training: the simulator's planted drops
# (−600…−1200 bps) are outliers no feature announces, and squared error
# would chase them. Evaluation uses the raw labels.
CLIP_BPS = 50
LSTM_FEATURES = ["ret_1", "price_ma", "vol_20", "volume_z", "spread_bps"]
BPS = 1e4  # regression targets are log returns in basis points

torch.set_num_threads(1)
torch.manual_seed(SEED)
keras.utils.set_random_seed(SEED)


def dump_features(tmp):
    """Runs the Go feature dump (the serving feature code) and loads it."""
    out = Path(tmp) / "dump"
    subprocess.run(["go", "run", "./scripts/models/dumpfeatures", "-out", str(out)], cwd=REPO, check=True)
    d = {name: np.load(out / f"{name}.npy") for name in ("features", "label", "symbol", "seq", "ts", "price")}
    d["meta"] = json.loads((out / "meta.json").read_text())
    return d


def write(path, array):
    path = OUT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array)
    return str(path.relative_to(OUT))


def xgboost_models(d, train, test, manifest, tmp):
    names = d["meta"]["feature_names"]
    X, y = d["features"], d["label"].astype(np.float64) * BPS
    up = (y > 0).astype(np.float32)
    horizon = d["meta"]["horizon"]
    rng = np.random.default_rng(SEED)

    # Labels per objective, all from the same future return.
    labels = {
        "bps": np.clip(y, -CLIP_BPS, CLIP_BPS).astype(np.float32),
        "up": up,
        "unit": (1 / (1 + np.exp(-y / 5))).astype(np.float32),  # reg:logistic wants [0, 1]
        "count": np.round(np.abs(y)).astype(np.float32),  # count:poisson wants counts
        "class3": np.digitize(y, [-2.0, 2.0]).astype(np.float32),  # down / flat / up
    }
    common = {"tree_method": "hist", "seed": SEED, "nthread": 1}
    specs = [
        # name, params, rounds, label, file formats
        ("reg", {"objective": "reg:squarederror", "max_depth": 6, "eta": 0.1}, 100, "bps", ["json", "ubj"]),
        ("logistic", {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2}, 60, "up", ["json"]),
        ("deep", {"objective": "reg:squarederror", "max_depth": 10, "eta": 0.05, "min_child_weight": 30,
                  "subsample": 0.8}, 120, "bps", ["ubj"]),
        ("reg_logistic", {"objective": "reg:logistic", "max_depth": 3}, 20, "unit", ["json"]),
        ("logitraw", {"objective": "binary:logitraw", "max_depth": 3}, 20, "up", ["json"]),
        ("poisson", {"objective": "count:poisson", "max_depth": 3}, 20, "count", ["json"]),
        ("softprob", {"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, 10, "class3", ["json"]),
        ("dart", {"objective": "reg:squarederror", "booster": "dart", "max_depth": 3, "rate_drop": 0.2,
                  "seed": SEED}, 20, "bps", ["json"]),
    ]
    boosters = {}
    for name, params, rounds, label, formats in specs:
        dtrain = xgb.DMatrix(X[train], labels[label][train], feature_names=names, missing=np.nan)
        b = xgb.train({**common, **params}, dtrain, rounds)
        b.set_attr(horizon=horizon, target={"bps": "log_return_bps"}.get(label, label))
        boosters[name] = (b, formats, params["objective"])

    # Inputs: real test rows (their symbol and seq are kept so the Go test
    # can recompute them from the simulator), the same rows with a fifth of
    # the values missing, and rows sitting exactly on split conditions and
    # one float32 ulp either side, where float32 comparison matters.
    real_idx = np.sort(rng.choice(test, 400, replace=False))
    real = X[real_idx]
    holes = real[:100].copy()
    holes[rng.random(holes.shape) < 0.2] = np.nan
    edges = []
    trees = json.loads(boosters["reg"][0].save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
    for t in trees[:20]:
        for node, left in enumerate(t["left_children"]):
            if left == -1 or len(edges) >= 180:
                continue
            f, c = t["split_indices"][node], np.float32(t["split_conditions"][node])
            for v in (c, np.nextafter(c, np.float32(-np.inf)), np.nextafter(c, np.float32(np.inf))):
                row = real[len(edges) % len(real)].copy()
                row[f] = v
                edges.append(row)
    inputs = np.concatenate([real, holes, np.array(edges, np.float32)]).astype(np.float32)
    rows = np.stack([d["symbol"][real_idx], d["seq"][real_idx]], axis=1).astype(np.int64)
    manifest["xgboost_inputs"] = write("xgboost/inputs.npy", inputs)
    manifest["xgboost_rows"] = write("xgboost/rows.npy", rows)

    dtest = xgb.DMatrix(inputs, feature_names=names, missing=np.nan)
    out = []
    for name, (b, formats, objective) in boosters.items():
        pred = b.predict(dtest).astype(np.float32)
        margin = b.predict(dtest, output_margin=True).astype(np.float32)
        entry = {"name": name, "objective": objective, "trees": len(b.get_dump()),
                 "expected": write(f"xgboost/{name}.expected.npy", pred.reshape(len(inputs), -1)),
                 "margin": write(f"xgboost/{name}.margin.npy", margin.reshape(len(inputs), -1))}
        for fmt in formats:
            path = OUT / "xgboost" / f"{name}.{fmt}"
            b.save_model(str(path))
            out.append({**entry, "file": str(path.relative_to(OUT)), "xgboost": xgb.__version__})
    np.savez(Path(tmp) / "xgb2.npz", X=X[train], y=labels["bps"][train], up=up[train], inputs=inputs,
             names=np.array(names))
    out += xgboost2_models(Path(tmp) / "xgb2.npz")
    manifest["xgboost"] = out

    # How well the regression model does out of sample, for the baseline
    # comparison (models/linear reports its own on the same split).
    ok = test
    pred = boosters["reg"][0].predict(xgb.DMatrix(X[ok], feature_names=names, missing=np.nan))
    manifest["metrics"] = {
        "test_rows": int(len(ok)),
        "xgboost_reg_rmse_bps": float(np.sqrt(np.mean((pred - y[ok]) ** 2))),
        "zero_rmse_bps": float(np.sqrt(np.mean(y[ok] ** 2))),
        "train_mean_rmse_bps": float(np.sqrt(np.mean((labels["bps"][train].mean() - y[ok]) ** 2))),
    }


def xgboost2_models(npz):
    """Models written by xgboost 2.x (scalar base_score, its UBJSON), trained
    in the second virtualenv; skipped with a warning when it is absent."""
    py = os.environ.get("XGB2_PYTHON")
    if not py:
        print("warning: XGB2_PYTHON not set: no xgboost 2.x fixtures", file=sys.stderr)
        return []
    res = subprocess.run([py, str(Path(__file__).parent / "gen_xgb2.py"), str(npz), str(OUT / "xgboost")],
                         check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def windows(d, idx, steps, cols):
    """The raw (unnormalised) feature windows ending at rows idx: the last
    steps rows of the same symbol, as the Go Features ring holds them."""
    X = d["features"][:, cols]
    sym, seq = d["symbol"], d["seq"]
    # Rows of one symbol are in seq order; position of (symbol, seq).
    first = {s: np.flatnonzero(sym == s) for s in np.unique(sym)}
    out = np.empty((len(idx), steps, len(cols)), np.float32)
    for k, i in enumerate(idx):
        rows = first[sym[i]]
        j = seq[i]
        assert rows[j] == i
        out[k] = X[rows[j - steps + 1: j + 1]]
    return out


def normalise(w, mean, std):
    z = (w - mean) / std  # float32 throughout, as Go does it
    z[np.isnan(z)] = 0
    return z.astype(np.float32)


def lstm_models(d, train, test, manifest):
    names = d["meta"]["feature_names"]
    cols = [names.index(f) for f in LSTM_FEATURES]
    raw = d["features"][train][:, cols]
    mean = np.nanmean(raw, axis=0).astype(np.float32)
    std = np.nanstd(raw, axis=0).astype(np.float32)
    y = d["label"].astype(np.float64) * BPS
    rng = np.random.default_rng(SEED + 1)
    horizon = d["meta"]["horizon"]

    def pick(rows, steps, n):
        ok = rows[(d["seq"][rows] >= steps - 1) & ~np.isnan(y[rows])]
        return np.sort(rng.choice(ok, n, replace=False))

    def meta(steps, target):
        return {"features": json.dumps(LSTM_FEATURES), "mean": json.dumps([float(x) for x in mean]),
                "std": json.dumps([float(x) for x in std]), "steps": steps, "horizon": horizon, "target": target}

    def fixture_inputs(steps):
        idx = pick(test, steps, 24)
        real = normalise(windows(d, idx, steps, cols), mean, std)
        wild = (rng.standard_normal((8, steps, len(cols))) * 3).astype(np.float32)  # saturates gates
        rows = np.stack([d["symbol"][idx], d["seq"][idx]], axis=1).astype(np.int64)
        return np.concatenate([real, wild]), rows

    out = []

    def keras_model(name, steps, layers, loss, target, label, epochs):
        idx = pick(train, steps, 3000)
        xs = normalise(windows(d, idx, steps, cols), mean, std)
        ys = np.clip(label[idx], -CLIP_BPS, CLIP_BPS).astype(np.float32)
        model = keras.Sequential([keras.Input((steps, len(cols)))] + layers)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
        model.fit(xs, ys, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
        inputs, rows = fixture_inputs(steps)
        expected = model.predict(inputs, batch_size=len(inputs), verbose=0).astype(np.float32)
        path = OUT / "lstm" / f"{name}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        export_keras(model, str(path), {**meta(steps, target), "name": name})
        out.append({"name": name, "file": str(path.relative_to(OUT)), "format": "keras", "steps": steps,
                    "inputs": write(f"lstm/{name}.inputs.npy", inputs), "rows": write(f"lstm/{name}.rows.npy", rows),
                    "expected": write(f"lstm/{name}.expected.npy", expected)})

    # The design notes' network: 60 × 5 → LSTM(128) → Dropout(0.3) → Dense(1).
    keras_model("keras_60x5_128", 60, [keras.layers.LSTM(128), keras.layers.Dropout(0.3), keras.layers.Dense(1)],
                "mse", "log_return_bps", y, 2)
    # Another size: two stacked layers, hard_sigmoid gates, a sigmoid head.
    keras_model("keras_20x5_16x8_hard", 20, [
        keras.layers.LSTM(16, return_sequences=True, recurrent_activation="hard_sigmoid"),
        keras.layers.LSTM(8, recurrent_activation="hard_sigmoid"),
        keras.layers.Dense(1, activation="sigmoid")], "binary_crossentropy", "up", (y > 0).astype(np.float32), 1)

    class Net(torch.nn.Module):
        def __init__(self, hidden, layers, outputs):
            super().__init__()
            self.lstm = torch.nn.LSTM(len(cols), hidden, num_layers=layers, batch_first=True)
            self.linear = torch.nn.Linear(hidden, outputs)

        def forward(self, x):
            seq, _ = self.lstm(x)
            return self.linear(seq[:, -1])

    def torch_model(name, steps, hidden, layers, outputs, iters):
        idx = pick(train, steps, 3000)
        xs = torch.from_numpy(normalise(windows(d, idx, steps, cols), mean, std))
        ys = torch.from_numpy(np.repeat(np.clip(y[idx, None], -CLIP_BPS, CLIP_BPS), outputs, axis=1).astype(np.float32))
        net = Net(hidden, layers, outputs)
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        for it in range(iters):
            b = torch.from_numpy(rng.choice(len(idx), 64, replace=False))
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(xs[b]), ys[b])
            loss.backward()
            opt.step()
        net.eval()
        inputs, rows = fixture_inputs(steps)
        with torch.no_grad():
            expected = net(torch.from_numpy(inputs)).numpy().astype(np.float32)
        path = OUT / "lstm" / f"{name}.safetensors"
        export_torch(net.lstm, net.linear, str(path), {**meta(steps, "log_return_bps"), "name": name})
        out.append({"name": name, "file": str(path.relative_to(OUT)), "format": "torch", "steps": steps,
                    "inputs": write(f"lstm/{name}.inputs.npy", inputs), "rows": write(f"lstm/{name}.rows.npy", rows),
                    "expected": write(f"lstm/{name}.expected.npy", expected)})

    torch_model("torch_60x5_64", 60, 64, 1, 1, 150)
    torch_model("torch_30x5_32x2_out2", 30, 32, 2, 2, 100)
    manifest["lstm"] = out


def split(d):
    """Training and test rows: by symbol, labelled rows only."""
    train = np.flatnonzero((d["symbol"] < TRAIN_SYMBOLS) & ~np.isnan(d["label"]))
    test = np.flatnonzero((d["symbol"] >= TRAIN_SYMBOLS) & ~np.isnan(d["label"]))
    return train, test


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["lightgbm"], help="regenerate only this part's fixtures")
    args = ap.parse_args()
    if args.only == "lightgbm":
        with tempfile.TemporaryDirectory() as tmp:
            d = dump_features(tmp)
            train, test = split(d)
            lightgbm_models(d, train, test, OUT / "lightgbm", SEED, CLIP_BPS, BPS)
        print(f"wrote {OUT / 'lightgbm'}")
        return
    started = time.time()
    manifest = {
        "generated_by": "scripts/models/gen_fixtures.py",
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "xgboost": xgb.__version__,
                     "keras": keras.__version__, "keras_backend": keras.backend.backend(),
                     "torch": torch.__version__, "safetensors": safetensors.__version__},
    }
    with tempfile.TemporaryDirectory() as tmp:
        d = dump_features(tmp)
        manifest["dump"] = {k: d["meta"][k] for k in ("sim", "horizon", "horizon_ms", "rows", "feature_names")}
        manifest["dump"]["train_symbols_below"] = TRAIN_SYMBOLS
        manifest["dump"]["clip_bps"] = CLIP_BPS
        train, test = split(d)
        xgboost_models(d, train, test, manifest, tmp)
        lstm_models(d, train, test, manifest)
        # It writes its own manifest, so that --only lightgbm leaves this
        # one alone.
        lightgbm_models(d, train, test, OUT / "lightgbm", SEED, CLIP_BPS, BPS)
        manifest["lightgbm"] = "lightgbm/fixtures.json"
    manifest["lstm_features"] = LSTM_FEATURES
    manifest["seconds"] = round(time.time() - started, 1)
    manifest["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (OUT / "fixtures.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {OUT} in {manifest['seconds']} s")


if __name__ == "__main__":
    main()
