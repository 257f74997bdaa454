"""Run a hand-written Triton kernel in the interpreter and natively; compare what each wrote.

The kernel is launched once through Triton on the package's driver with
``EXT_CODEGEN_NATIVE=0`` (the interpreter runs it, and the front end leaves
the Triton IR in ``handle.asm["ttir"]``), and once through
:func:`ext_codegen.triton_backend.native.route.compile_ttir` on clones of the
same inputs.  Every tensor argument is then compared: bit for bit by default
(NaNs equal when both are NaN), or within ``rtol`` for reductions and libm calls.
"""

from __future__ import annotations

import torch

from ext_codegen.triton_backend.native import route
from tests.helpers import on_interpreter


def kernel_args(handle, names, values):
    """The values of the ``tt.func`` parameters: the launch's arguments that are not compile-time constants."""
    signature = handle.src.signature
    return [values[n] for n in names if signature.get(n) != "constexpr"]


def same(a: torch.Tensor, b: torch.Tensor, rtol: float | None, atol: float = 0.0) -> tuple[bool, str]:
    if a.dtype.is_floating_point:
        if rtol is None:
            nan = torch.isnan(a) & torch.isnan(b)
            bits = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
            ok = bool(((a.view(bits) == b.view(bits)) | nan).all())
        else:
            ok = torch.allclose(a.double(), b.double(), rtol=rtol, atol=atol, equal_nan=True)
        diff = (a.double() - b.double()).abs().nan_to_num(0).max().item() if a.numel() else 0
        return ok, f"max abs diff {diff:.3g}"
    return bool(torch.equal(a, b)), f"{int((a != b).sum())} elements differ"


def native_vs_interpreter(kernel, grid, args: dict, constexprs: dict | None = None, rtol=None, atol=0.0,
                          threads=None):
    """Launch ``kernel[grid](**args, **constexprs)`` both ways; assert every tensor matches. Returns the handle."""
    constexprs = constexprs or {}
    native_args = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in args.items()}
    with on_interpreter(), route.interpreted():
        handle = kernel[grid](**args, **constexprs)
    compiled = route.compile_ttir(handle.asm["ttir"], enable_fp_fusion=handle.metadata.enable_fp_fusion)
    g = grid if isinstance(grid, tuple) else grid(constexprs)
    compiled.kernel(g, kernel_args(handle, kernel.arg_names, native_args), threads=threads)
    for name, value in args.items():
        if isinstance(value, torch.Tensor):
            ok, detail = same(value, native_args[name], rtol, atol)
            assert ok, f"{kernel.__name__}: argument {name} differs ({detail})\n" \
                       f"interpreter: {value.flatten()[:8]}\nnative:      {native_args[name].flatten()[:8]}"
    return handle, compiled
