"""Between Triton's dtypes, numpy arrays and torch tensors, bf16 included.

The interpreter holds every block as a numpy array; numpy has no bfloat16, so
the interpreter keeps bf16 blocks as their raw 16-bit patterns (``uint16``).
The gaps that compute with PyTorch (casts, bf16 arithmetic, libdevice,
atomics) convert through these three functions, which reinterpret those bits
instead of converting values.
"""

from __future__ import annotations

import numpy as np
import torch

TL_TO_TORCH = {
    "int1": torch.bool, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
    "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,
    "fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32,
    "fp64": torch.float64,
}


def torch_dtype(tl_dtype) -> torch.dtype | None:
    return TL_TO_TORCH.get(tl_dtype.name)


def to_torch(data: np.ndarray, tl_dtype) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(data))
    if tl_dtype.name == "bf16":
        return t.view(torch.int16).view(torch.bfloat16)
    return t


def to_numpy(t: torch.Tensor, tl_dtype) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()
