"""Export a PyTorch nn.LSTM (batch_first, unidirectional, no projection)
and its nn.Linear head to the safetensors layout tickstream's models/lstm
package reads.

Tensor names (float32, PyTorch's own layouts):
  lstm.weight_ih_l<l>  (4*hidden, input)   gate blocks i, f, g, o
  lstm.weight_hh_l<l>  (4*hidden, hidden)
  lstm.bias_ih_l<l>, lstm.bias_hh_l<l>  (4*hidden)   absent when bias=False
  linear.weight        (outputs, hidden)
  linear.bias          (outputs)
__metadata__: format=torch, torch_version, head_activation (linear unless
the caller says "sigmoid"), plus whatever `metadata` adds.

Library use: export_torch(model.lstm, model.fc, "model.safetensors", {...}).
Command line, from a saved state_dict whose modules have other names:
  python export_torch.py state.pt out.safetensors LSTM_PREFIX LINEAR_PREFIX [key=value ...]
"""
import sys

import torch
from safetensors.torch import save_file


def export_torch(lstm, linear, path, metadata=None):
    if lstm.bidirectional or getattr(lstm, "proj_size", 0):
        raise ValueError("bidirectional or projected LSTMs are not supported")
    tensors = {f"lstm.{k}": v for k, v in lstm.state_dict().items()}
    tensors.update({f"linear.{k}": v for k, v in linear.state_dict().items()})
    _save(tensors, path, metadata)


def _save(tensors, path, metadata):
    meta = {"format": "torch", "torch_version": torch.__version__, "head_activation": "linear"}
    meta.update({k: str(v) for k, v in (metadata or {}).items()})
    save_file({k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}, path, metadata=meta)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    state = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
    lp, hp = sys.argv[3], sys.argv[4]
    tensors = {}
    for k, v in state.items():
        if k.startswith(lp):
            tensors["lstm." + k[len(lp):].lstrip(".")] = v
        elif k.startswith(hp):
            tensors["linear." + k[len(hp):].lstrip(".")] = v
    extra = dict(arg.split("=", 1) for arg in sys.argv[5:])
    _save(tensors, sys.argv[2], extra)
