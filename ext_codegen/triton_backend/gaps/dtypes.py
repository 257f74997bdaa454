"""Between Triton's dtypes, numpy arrays and torch tensors, bf16 included.

The interpreter holds every block as a numpy array; numpy has no bfloat16, so
the interpreter keeps bf16 blocks as their raw 16-bit patterns (``uint16``).
The gaps that compute with PyTorch (casts, bf16 arithmetic, libdevice,
atomics) convert through :func:`torch_dtype`, :func:`to_torch` and
:func:`to_numpy`, which reinterpret those bits instead of converting values;
the gaps that compute with numpy (scans, sorting) wrap their results with
:func:`to_block`.
"""

from __future__ import annotations

import numpy as np
import torch
import triton.language as tl
from triton.runtime import interpreter as interp

TL_TO_TORCH = {
    "int1": torch.bool, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
    "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,
    "fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32,
    "fp64": torch.float64,
}


def torch_dtype(tl_dtype) -> torch.dtype | None:
    """The torch dtype of a Triton element type, or ``None`` for one torch lacks (fp8 variants)."""
    return TL_TO_TORCH.get(tl_dtype.name)


def to_torch(data: np.ndarray, tl_dtype) -> torch.Tensor:
    """A tensor sharing ``data``'s memory; bf16 blocks, which numpy holds as uint16, are viewed as bf16."""
    t = torch.from_numpy(np.ascontiguousarray(data))
    if tl_dtype.name == "bf16":
        return t.view(torch.int16).view(torch.bfloat16)
    return t


def to_numpy(t: torch.Tensor, tl_dtype) -> np.ndarray:
    """The inverse of :func:`to_torch`: a numpy array over ``t``'s memory, bf16 as uint16 bits."""
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


def to_block(data: np.ndarray, dtype) -> tl.tensor:
    """A ``tl.tensor`` over ``data`` (a numpy array) of element type ``dtype``."""
    return tl.core.tensor(interp.TensorHandle(np.ascontiguousarray(data), dtype.scalar),
                          tl.block_type(dtype.scalar, list(data.shape)))
