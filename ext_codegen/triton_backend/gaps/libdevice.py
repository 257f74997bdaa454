"""libdevice in the interpreter: each call runs the same-named PyTorch operation.

Inductor's kernels call ``libdevice.exp``, ``erf``, ``tanh``, ``pow``,
``log1p``, ... .  Triton's front end resolves them to CUDA's declarations
(the compiler's module map), which give every function its argument and
result types; the interpreter then meets an external call it refuses.  The
builder's ``create_extern_elementwise`` is replaced by
``extern_elementwise``, which looks the symbol up in
``LIBDEVICE_TO_TORCH`` and computes it with PyTorch, as eager would.
"""

from __future__ import annotations

import torch
from triton.runtime import interpreter as interp

from .dtypes import to_numpy, to_torch, torch_dtype


def cuda_libdevice():
    """``triton.language.extra.cuda.libdevice``, imported on first use."""
    from triton.language.extra.cuda import libdevice

    return libdevice


def _libdevice_torch_fn(symbol: str):
    """``__nv_expf`` -> ``torch.exp``; ``None`` where PyTorch has no match."""
    name = symbol.removeprefix("__nv_")
    for candidate in (name, name[:-1] if name[-1:] in ("f", "d") else None):
        if candidate and candidate in LIBDEVICE_TO_TORCH:
            return LIBDEVICE_TO_TORCH[candidate]
    return None


def _signbit(x):
    return torch.signbit(x).to(torch.int32)


def _isinf(x):
    return torch.isinf(x).to(torch.int32)


def _isnan(x):
    return torch.isnan(x).to(torch.int32)


def _rint(x):
    return torch.round(x)


def _llrint(x):
    return torch.round(x).to(torch.int64)


def _div_rn(x, y):
    return x / y


def _ilogb(x):
    return torch.frexp(x)[1] - 1


def _ldexp(x, n):
    return torch.ldexp(x, n.to(x.dtype)).to(x.dtype)


def _fmod(x, y):
    return torch.fmod(x, y)


def _cyl_bessel_i0(x):
    return torch.special.i0(x)


LIBDEVICE_TO_TORCH = {
    # unary, same dtype out
    "abs": torch.abs, "fabs": torch.abs, "acos": torch.acos, "acosh": torch.acosh,
    "asin": torch.asin, "asinh": torch.asinh, "atan": torch.atan, "atanh": torch.atanh,
    "cbrt": lambda x: torch.sign(x) * torch.abs(x).pow(1.0 / 3.0),
    "ceil": torch.ceil, "cos": torch.cos, "cosh": torch.cosh, "erf": torch.erf,
    "erfc": torch.erfc, "erfinv": torch.erfinv, "exp": torch.exp, "exp2": torch.exp2,
    "exp10": lambda x: torch.pow(10.0, x).to(x.dtype), "expm1": torch.expm1,
    "floor": torch.floor, "lgamma": torch.lgamma, "log": torch.log, "log10": torch.log10,
    "log1p": torch.log1p, "log2": torch.log2, "nearbyint": _rint, "rint": _rint,
    "round": lambda x: torch.sign(x) * torch.floor(torch.abs(x) + 0.5),
    "rsqrt": torch.rsqrt, "sin": torch.sin, "sinh": torch.sinh, "sqrt": torch.sqrt,
    "tan": torch.tan, "tanh": torch.tanh, "fast_tanh": torch.tanh, "trunc": torch.trunc,
    "tgamma": lambda x: torch.exp(torch.lgamma(x)) * torch.where(
        (x < 0) & (torch.floor(x).remainder(2) == 0), -1.0, 1.0).to(x.dtype),
    "j0": torch.special.bessel_j0, "j1": torch.special.bessel_j1,
    "y0": torch.special.bessel_y0, "y1": torch.special.bessel_y1,
    "cyl_bessel_i0": _cyl_bessel_i0, "cyl_bessel_i1": torch.special.i1,
    "normcdf": torch.special.ndtr, "normcdfinv": torch.special.ndtri,
    "erfcx": torch.special.erfcx, "sinpi": lambda x: torch.sin(torch.pi * x),
    "cospi": lambda x: torch.cos(torch.pi * x), "rcp": torch.reciprocal,
    "frcp_rn": torch.reciprocal, "saturate": lambda x: x.clamp(0, 1),
    # predicates and integer results
    "signbit": _signbit, "isinf": _isinf, "isnan": _isnan,
    "isfinite": lambda x: torch.isfinite(x).to(torch.int32),
    "finitef": lambda x: torch.isfinite(x).to(torch.int32),
    "llrint": _llrint, "ilogb": _ilogb,
    # binary
    "atan2": torch.atan2, "copysign": torch.copysign, "fmod": _fmod,
    "hypot": torch.hypot, "nextafter": torch.nextafter, "pow": torch.pow,
    "powi": lambda x, n: torch.pow(x, n), "fmax": torch.fmax, "fmin": torch.fmin,
    "remainder": torch.remainder, "fdim": lambda x, y: torch.clamp(x - y, min=0),
    "div_rn": _div_rn, "fdiv_rn": _div_rn, "ldexp": _ldexp,
    "fma": lambda x, y, z: x * y + z,
}


def extern_elementwise(builder, lib_name, lib_path, symbol, args, ret_type, is_pure):
    fn = _libdevice_torch_fn(symbol)
    if fn is None:
        raise NotImplementedError(
            f"ext_codegen: libdevice function {symbol!r} has no PyTorch equivalent "
            "in the interpreter; add it to ext_codegen.triton_backend.gaps.libdevice.LIBDEVICE_TO_TORCH"
        )
    ret = ret_type.scalar
    with torch.no_grad():
        out = fn(*(to_torch(a.data, a.dtype.scalar) for a in args))
    out = out.to(torch_dtype(ret))
    return interp.TensorHandle(to_numpy(out, ret), ret)
