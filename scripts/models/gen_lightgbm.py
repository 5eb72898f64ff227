"""The LightGBM part of the fixture generator (gen_fixtures.py calls it, or
runs it alone with --only lightgbm): small models trained with the real
lightgbm on the same feature matrix as the xgboost fixtures, saved with
Booster.save_model (text), the inputs models/lightgbm's parity test feeds
them and the outputs of lightgbm's own predict, raw and transformed.

It writes models/testdata/lightgbm/ and its own manifest there
(lightgbm/fixtures.json), so running it alone leaves every other fixture,
fixtures.json included, byte for byte as it was.
"""
import json
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np

# LightGBM's kZeroThreshold (include/LightGBM/meta.h: 1e-35f): values within
# it are zero to the predictor, and the binner puts split thresholds at ±it.
K_ZERO = float(np.float32(1e-35))


def lightgbm_models(d, train, test, out_dir, seed, clip_bps, bps):
    """Trains the fixture models and writes them, the inputs and lightgbm's
    predictions into out_dir (models/testdata/lightgbm)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = d["meta"]["feature_names"]
    X = d["features"].astype(np.float32)
    y = d["label"].astype(np.float64) * bps
    rng = np.random.default_rng(seed + 2)

    # Training rows with holes and zeros punched in, so that the binner
    # sees NaN (missing type NaN) and, with zero_as_missing, zeros (missing
    # type Zero) in every feature; features without NaN get type None.
    Xt = X[train].copy()
    holes = rng.random(Xt.shape) < 0.08
    holes[:, ::3] = False  # every third feature keeps only its own NaNs: type None where it has none
    Xt[holes] = np.nan
    Xt[rng.random(Xt.shape) < 0.08] = 0
    labels = {"bps": np.clip(y[train], -clip_bps, clip_bps), "up": (y[train] > 0).astype(np.float64)}

    common = {"seed": seed, "deterministic": True, "num_threads": 1, "verbose": -1, "force_row_wise": True}
    specs = [
        # name, params, rounds, label
        ("reg", {"objective": "regression", "num_leaves": 31, "learning_rate": 0.1}, 100, "bps"),
        ("binary", {"objective": "binary", "num_leaves": 15, "learning_rate": 0.2, "sigmoid": 0.7}, 60, "up"),
        ("reg_zero", {"objective": "regression", "num_leaves": 15, "learning_rate": 0.1,
                      "zero_as_missing": True}, 40, "bps"),
        ("binary_zero", {"objective": "binary", "num_leaves": 15, "learning_rate": 0.2,
                         "zero_as_missing": True}, 40, "up"),
        ("reg_nomissing", {"objective": "regression", "num_leaves": 7, "use_missing": False}, 20, "bps"),
        # No split can keep min_data_in_leaf rows on both sides: one tree,
        # a lone leaf (the training mean), and training stops.
        ("stump", {"objective": "regression", "min_data_in_leaf": len(train)}, 3, "bps"),
    ]
    boosters = {}
    for name, params, rounds, label in specs:
        ds = lgb.Dataset(Xt, labels[label], feature_name=names, params={"verbose": -1})
        boosters[name] = (lgb.train({**common, **params}, ds, rounds), params["objective"])

    # Inputs: real test rows, the same with a fifth of the values missing,
    # with a fifth zero, with tiny values LightGBM's predictor takes for
    # zero, and rows sitting on split thresholds of every model (the
    # float32 nearest the double threshold and one ulp either side).
    real_idx = np.sort(rng.choice(test, 400, replace=False))
    real = X[real_idx]
    nan_rows = real[:100].copy()
    nan_rows[rng.random(nan_rows.shape) < 0.2] = np.nan
    zero_rows = real[100:200].copy()
    zero_rows[rng.random(zero_rows.shape) < 0.2] = 0
    tiny_rows = real[200:240].copy()
    tiny = np.array([K_ZERO, -K_ZERO, 1e-36, -1e-36, 1e-40, -0.0, 2e-35, -2e-35], np.float32)
    mask = rng.random(tiny_rows.shape) < 0.3
    tiny_rows[mask] = rng.choice(tiny, mask.sum())
    edges = []
    for name, (b, _) in boosters.items():
        for feat, thr in thresholds(b.dump_model()):
            if not abs(thr) <= float(np.finfo(np.float32).max):
                continue  # an inf threshold (a feature with inf values): no float32 sits on it
            c = np.float32(thr)
            for v in (c, np.nextafter(c, np.float32(-np.inf)), np.nextafter(c, np.float32(np.inf))):
                row = real[len(edges) % len(real)].copy()
                row[feat] = v
                edges.append(row)
    edges = np.array(edges, np.float32)
    edges = edges[np.sort(rng.choice(len(edges), min(len(edges), 600), replace=False))]
    inputs = np.concatenate([real, nan_rows, zero_rows, tiny_rows, edges]).astype(np.float32)
    np.save(out_dir / "inputs.npy", inputs)

    models = []
    for name, (b, objective) in boosters.items():
        path = out_dir / f"{name}.txt"
        b.save_model(str(path))
        # Predict from the saved file, the thing the Go loader reads.
        m = lgb.Booster(model_file=str(path))
        raw = m.predict(inputs, raw_score=True).astype(np.float64)
        pred = m.predict(inputs).astype(np.float64)
        np.save(out_dir / f"{name}.raw.npy", raw)
        np.save(out_dir / f"{name}.expected.npy", pred)
        models.append({"name": name, "objective": objective, "trees": m.num_trees(),
                       "file": f"lightgbm/{name}.txt", "raw": f"lightgbm/{name}.raw.npy",
                       "expected": f"lightgbm/{name}.expected.npy"})

    # Files the loader must refuse, each for its own reason.
    refused = []
    # A made-up categorical column the label depends on, so that it is split on.
    bucket = np.arange(len(Xt)) % 5
    ds = lgb.Dataset(np.c_[Xt, bucket.astype(np.float32)], labels["bps"] + 30 * np.isin(bucket, [1, 3]),
                     feature_name=names + ["bucket"], categorical_feature=["bucket"], params={"verbose": -1})
    cat = lgb.train({**common, "objective": "regression", "num_leaves": 7}, ds, 5)
    cat.save_model(str(out_dir / "categorical.txt"))
    refused.append({"file": "lightgbm/categorical.txt", "why": "categorical split"})
    ds = lgb.Dataset(Xt, np.digitize(y[train], [-2.0, 2.0]), feature_name=names, params={"verbose": -1})
    multi = lgb.train({**common, "objective": "multiclass", "num_class": 3, "num_leaves": 4}, ds, 2)
    multi.save_model(str(out_dir / "multiclass.txt"))
    refused.append({"file": "lightgbm/multiclass.txt", "why": "num_class 3"})

    manifest = {
        "generated_by": "scripts/models/gen_lightgbm.py",
        "versions": {"lightgbm": lgb.__version__, "numpy": np.__version__},
        "inputs": "lightgbm/inputs.npy",
        "input_parts": {"real": len(real), "nan": len(nan_rows), "zero": len(zero_rows), "tiny": len(tiny_rows),
                        "edges": len(edges)},
        "models": models,
        "refused": refused,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out_dir / "fixtures.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def thresholds(dump):
    """(feature, threshold) of every numerical split in a dump_model()."""
    out = []

    def walk(node):
        if "split_index" not in node:
            return
        if node.get("decision_type") == "<=":
            out.append((node["split_feature"], float(node["threshold"])))
        walk(node["left_child"])
        walk(node["right_child"])

    for t in dump["tree_info"]:
        walk(t["tree_structure"])
    return out
