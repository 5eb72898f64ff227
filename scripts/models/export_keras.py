"""Export a Keras 3 LSTM model (LSTM layers, optional Dropout, one Dense
head) to the safetensors layout tickstream's models/lstm package reads.

Tensor names (float32, row-major, Keras' own layouts):
  lstm_<l>/kernel            (input_dim, 4*units)  gate blocks i, f, c, o
  lstm_<l>/recurrent_kernel  (units, 4*units)
  lstm_<l>/bias              (4*units)             absent when use_bias=False
  dense/kernel               (units, outputs)
  dense/bias                 (outputs)
__metadata__ (all strings): format=keras, keras_version, activation,
recurrent_activation, head_activation, plus whatever `metadata` adds
(features, mean, std, steps, horizon, ...).

Library use: export_keras(model, "model.safetensors", {"steps": "60"}).
Command line: python export_keras.py model.keras out.safetensors [key=value ...]
"""
import sys

import keras
import numpy as np
from safetensors.numpy import save_file


def export_keras(model, path, metadata=None):
    tensors, meta = {}, {"format": "keras", "keras_version": keras.__version__}
    lstm_index, dense = 0, None
    for layer in model.layers:
        if isinstance(layer, keras.layers.LSTM):
            cfg = layer.get_config()
            if cfg.get("go_backwards"):
                raise ValueError("go_backwards LSTMs are not supported")
            if dense is not None:
                raise ValueError("an LSTM after the Dense head is not supported")
            cell = layer.cell
            tensors[f"lstm_{lstm_index}/kernel"] = np.asarray(cell.kernel.numpy(), np.float32)
            tensors[f"lstm_{lstm_index}/recurrent_kernel"] = np.asarray(cell.recurrent_kernel.numpy(), np.float32)
            if cell.use_bias:
                tensors[f"lstm_{lstm_index}/bias"] = np.asarray(cell.bias.numpy(), np.float32)
            for key in ("activation", "recurrent_activation"):
                prev = meta.setdefault(key, cfg[key])
                if prev != cfg[key]:
                    raise ValueError(f"all LSTM layers must share {key}")
            lstm_index += 1
        elif isinstance(layer, keras.layers.Dense):
            if dense is not None:
                raise ValueError("only one Dense layer (the head) is supported")
            dense = layer
            tensors["dense/kernel"] = np.asarray(layer.kernel.numpy(), np.float32)
            if layer.use_bias:
                tensors["dense/bias"] = np.asarray(layer.bias.numpy(), np.float32)
            meta["head_activation"] = layer.get_config()["activation"]
        elif isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            continue  # no weights; Dropout is the identity at inference
        else:
            raise ValueError(f"layer {layer.name} ({type(layer).__name__}) is not supported")
    if lstm_index == 0 or dense is None:
        raise ValueError("want LSTM layers and a Dense head")
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, path, metadata=meta)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    extra = dict(arg.split("=", 1) for arg in sys.argv[3:])
    export_keras(keras.saving.load_model(sys.argv[1]), sys.argv[2], extra)
