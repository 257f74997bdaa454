"""What the benchmarks share: the functions they compile (one definition, sized per device) and how
each writes its result (:func:`write_json`)."""

from __future__ import annotations

import json
import os

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


def cumsum(x):
    return x.cumsum(1)


def cumprod(x):
    return x.cumprod(1)


def logcumsumexp(x):
    return x.logcumsumexp(1)


def cumsum_both(x):
    """Scans along both axes: one over the strided (leading) axis, one over rows."""
    return x.cumsum(0), x.cumsum(1)


def sort_values(x):
    return x.sort(1).values


def ln_mlp_block(x, ln_w, ln_b, w1, b1, w2, b2):
    """LayerNorm, then a 4x-wide GELU MLP, with the residual: a transformer block's second half."""
    h = F.layer_norm(x, x.shape[-1:], ln_w, ln_b)
    return x + F.gelu(h @ w1 + b1) @ w2 + b2


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
    if name == "ln_mlp_block":
        w1, b1, w2, b2 = _weights(g, device, dtype, (cols, 4 * cols), (4 * cols,), (4 * cols, cols), (cols,))
        return (x, 1 + 0.1 * vec(), 0.1 * vec(), w1, b1, w2, b2)
    return (x,)


HEAD_DIM = 64


def mlp(x, w1, b1, w2, b2):
    """A transformer's feed-forward block: two matrix products, bias and GELU between."""
    return F.gelu(x @ w1 + b1) @ w2 + b2


def transformer_block(x, ln1_w, ln1_b, w_qkv, w_o, ln2_w, ln2_b, w1, b1, w2, b2):
    """A pre-norm decoder block: causal self-attention then the MLP, each with a residual."""
    batch, seq, dim = x.shape
    heads = dim // HEAD_DIM
    h = F.layer_norm(x, (dim,), ln1_w, ln1_b)
    q, k, v = (h @ w_qkv).view(batch, seq, 3, heads, HEAD_DIM).permute(2, 0, 3, 1, 4).unbind(0)
    attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    x = x + attn.transpose(1, 2).reshape(batch, seq, dim) @ w_o
    return x + mlp(F.layer_norm(x, (dim,), ln2_w, ln2_b), w1, b1, w2, b2)


def block_loss(*args):
    """One training step's forward: the block and a scalar loss (backward is called on it)."""
    return transformer_block(*args).float().square().mean()


def _weights(g, device, dtype, *shapes):
    """Random matrices scaled by 1/sqrt(fan_in), so activations stay near unit size."""
    return [
        (torch.randn(*s, device=device, generator=g) * s[0] ** -0.5).to(dtype) if len(s) == 2
        else (torch.randn(*s, device=device, generator=g) * 0.1).to(dtype)
        for s in shapes
    ]


def make_mlp_inputs(tokens: int, dim: int, device: str, dtype=torch.bfloat16, seed: int = 0):
    """``x`` (tokens x dim) and the weights of a 4x-wide MLP."""
    g = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(tokens, dim, device=device, generator=g).to(dtype)
    return (x, *_weights(g, device, dtype, (dim, 4 * dim), (4 * dim,), (4 * dim, dim), (dim,)))


def make_block_inputs(batch: int, seq: int, dim: int, device: str, dtype=torch.bfloat16, seed: int = 0,
                      requires_grad: bool = False):
    """``x`` (batch x seq x dim) and the block's parameters (layer-norm weights near 1)."""
    g = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(batch, seq, dim, device=device, generator=g).to(dtype)
    w_qkv, w_o, w1, b1, w2, b2, ln1_b, ln2_b = _weights(
        g, device, dtype, (dim, 3 * dim), (dim, dim), (dim, 4 * dim), (4 * dim,), (4 * dim, dim), (dim,),
        (dim,), (dim,))
    ln1_w, ln2_w = ((1 + 0.1 * torch.randn(dim, device=device, generator=g)).to(dtype) for _ in range(2))
    params = [ln1_w, ln1_b, w_qkv, w_o, ln2_w, ln2_b, w1, b1, w2, b2]
    for p in params:
        p.requires_grad_(requires_grad)
    return (x, *params)


CASES = {
    "pointwise_chain": pointwise_chain,
    "row_sum_plus_max": row_sum_plus_max,
    "softmax": softmax,
    "layer_norm": layer_norm,
    "rms_norm": rms_norm,
    "column_sum": column_sum,
    "cumsum": cumsum,
    "cumprod": cumprod,
    "logcumsumexp": logcumsumexp,
    "cumsum_both": cumsum_both,
    "sort_values": sort_values,
    "ln_mlp_block": ln_mlp_block,
}

# Cases with their own input makers (weights beside the activations).
MODEL_CASES = {
    "mlp": mlp,
    "transformer_block": transformer_block,
    "block_loss": block_loss,
}


def write_json(obj, path: str) -> None:
    """``obj`` as indented JSON at ``path`` (folders made), written whole: a reader never sees half a file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
