"""The functions both benchmarks compile: one definition, sized per device."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pointwise_chain(x):
    return (x.sin() * 2 + x.cos()).relu()


def row_sum_plus_max(x):
    return x.sum(-1) + x.amax(-1)


def softmax(x):
    return torch.softmax(x, -1)


def layer_norm(x, w, b):
    return F.layer_norm(x, x.shape[-1:], w, b)


def rms_norm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def column_sum(x):
    """A reduction over the non-contiguous (leading) dimension."""
    return x.sum(0)


def make_inputs(name: str, rows: int, cols: int, device: str, dtype=torch.float32, seed: int = 0):
    g = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(rows, cols, device=device, dtype=dtype, generator=g)
    vec = lambda: torch.randn(cols, device=device, dtype=dtype, generator=g)  # noqa: E731
    if name == "pointwise_chain":
        return (x.flatten(),)
    if name == "layer_norm":
        return (x, vec(), vec())
    if name == "rms_norm":
        return (x, vec())
    return (x,)


CASES = {
    "pointwise_chain": pointwise_chain,
    "row_sum_plus_max": row_sum_plus_max,
    "softmax": softmax,
    "layer_norm": layer_norm,
    "rms_norm": rms_norm,
    "column_sum": column_sum,
}
