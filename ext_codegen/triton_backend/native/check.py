"""The check mode (``EXT_CODEGEN_NATIVE_CHECK=1``): every native launch is run by the interpreter too, and compared.

Before the native kernel runs, every storage its tensor arguments view is
copied once (arguments that share a storage keep sharing it in the copy, as
Inductor's in-place buffers need); the native kernel runs on the real
arguments, the interpreter on views of the copies, and then each storage is
compared with its copy as a whole.  The rule is the prototype's, the one
its harvest of Inductor kernels was checked with:

* a kernel whose Triton IR has only elementwise, integer, comparison,
  select, load, store and cast ops must match **bit for bit** (NaN equal to
  NaN);
* a kernel with reductions, scans, ``tt.dot``, library math or float atomics
  (:data:`.route.INEXACT`) within ``rtol = 1e-5`` and ``atol = 1e-5 * max|x|``
  of the interpreter's storage, NaNs equal.

A mismatch raises :class:`NativeMismatch` naming the kernel and the storage.
"""

from __future__ import annotations

#: Relative tolerance of the inexact kernels; the absolute one is this times the largest magnitude.
RTOL = 1e-5


class NativeMismatch(AssertionError):
    """A native launch wrote something else than the interpreter on the same inputs."""


def _flat(t):
    import torch

    return torch.empty(0, dtype=t.dtype, device=t.device).set_(t.untyped_storage())


def copies(values: list) -> tuple[list, dict]:
    """``values`` with every tensor replaced by the same view of a copy of its storage; and the copies by storage."""
    import torch

    seen: dict = {}
    out = []
    for v in values:
        if isinstance(v, torch.Tensor):
            key = v.untyped_storage().data_ptr()
            if key not in seen:
                seen[key] = (_flat(v), _flat(v).clone())
            out.append(seen[key][1].as_strided(v.size(), v.stride(), v.storage_offset()))
        else:
            out.append(v)
    return out, seen


def same(a, b, exact: bool) -> tuple[bool, str]:
    """Whether storage ``a`` (native) equals ``b`` (interpreter) under the rule above, and a word on how far off."""
    import torch

    a, b = a.cpu(), b.cpu()
    if a.dtype.is_floating_point:
        if exact:
            bits = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
            ok = bool(((a.view(bits) == b.view(bits)) | (torch.isnan(a) & torch.isnan(b))).all())
        else:
            scale = b.double().abs().nan_to_num(0, 0, 0).max().item() if b.numel() else 0.0
            ok = torch.allclose(a.double(), b.double(), rtol=RTOL, atol=RTOL * scale, equal_nan=True)
        diff = (a.double() - b.double()).abs().nan_to_num(0).max().item() if a.numel() else 0
        return ok, f"max abs diff {diff:.3g}"
    return bool(torch.equal(a, b)), f"{int((a != b).sum())} elements differ"


def checked_launch(name: str, run_native, run_interpreter, values: list, exact: bool) -> None:
    """``run_native(values)``, ``run_interpreter(copied values)``; raise :class:`NativeMismatch` when they differ."""
    copied, storages = copies(values)
    run_native(values)
    run_interpreter(copied)
    for k, (native, interpreted) in enumerate(storages.values()):
        ok, detail = same(native, interpreted, exact)
        if not ok:
            rule = "bit for bit" if exact else f"rtol {RTOL}"
            raise NativeMismatch(f"ext_codegen native check: kernel {name}: storage {k} ({native.dtype}, "
                                 f"{native.numel()} elements) differs from the interpreter's ({rule}): {detail}")
