"""Fixtures written by xgboost 2.x, whose files differ from 3.x (base_score
a scalar string, no "cats" section). Run by gen_fixtures.py in the second
virtualenv (requirements-xgb2.txt):
    python gen_xgb2.py TRAINING.npz OUT_DIR   → prints manifest entries (JSON)
"""
import json
import sys
from pathlib import Path

import numpy as np
import xgboost as xgb

SEED = 20261125


def main(npz, out):
    d = np.load(npz)
    names = [str(n) for n in d["names"]]
    out = Path(out)
    inputs = xgb.DMatrix(d["inputs"], feature_names=names, missing=np.nan)
    entries = []
    for name, params, label, fmt in [
        ("xgb2_reg", {"objective": "reg:squarederror", "max_depth": 5}, d["y"], "json"),
        ("xgb2_logistic", {"objective": "binary:logistic", "max_depth": 4}, d["up"], "ubj"),
    ]:
        dtrain = xgb.DMatrix(d["X"], label, feature_names=names, missing=np.nan)
        b = xgb.train({**params, "tree_method": "hist", "seed": SEED, "nthread": 1}, dtrain, 30)
        path = out / f"{name}.{fmt}"
        b.save_model(str(path))
        n = len(d["inputs"])
        np.save(out / f"{name}.expected.npy", b.predict(inputs).astype(np.float32).reshape(n, -1))
        np.save(out / f"{name}.margin.npy", b.predict(inputs, output_margin=True).astype(np.float32).reshape(n, -1))
        entries.append({"name": name, "objective": params["objective"], "trees": len(b.get_dump()),
                        "file": f"xgboost/{path.name}", "expected": f"xgboost/{name}.expected.npy",
                        "margin": f"xgboost/{name}.margin.npy", "xgboost": xgb.__version__})
    print(json.dumps(entries))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
