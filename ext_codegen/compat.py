"""Every difference between the supported torch and triton releases, in one place.

Supported: torch 2.11 (triton 3.6) and torch 2.13 (triton 3.8).  Each entry
names the release that changed what it papers over.
"""

from __future__ import annotations

import triton
import triton.language
from triton.runtime import interpreter as _interpreter
from triton.runtime.jit import JITFunction

import torch

TORCH_VERSION = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
TRITON_VERSION = tuple(int(p) for p in triton.__version__.split(".")[:2])

__all__ = ["JITFunction", "TORCH_VERSION", "TRITON_VERSION"]


def triton_language():
    return triton.language


def triton_interpreter():
    return _interpreter


def is_constexpr_annotation(annotation) -> bool:
    # Annotations are ``tl.constexpr`` objects, or the string "tl.constexpr"
    # when the kernel's module uses ``from __future__ import annotations``.
    if isinstance(annotation, str):
        return annotation.split(".")[-1] == "constexpr"
    return annotation is triton.language.constexpr


def preload_lazy_triton_modules() -> None:
    """Import what Triton imports lazily on a kernel's first launch.

    triton 3.8's ``mangle_type`` imports ``triton.experimental.gluon``, which
    asserts that ``tl.cdiv`` is a ``JITFunction``: it must happen before the
    interpreter swaps the language's JIT functions for interpreted ones.
    """
    import importlib.util

    if importlib.util.find_spec("triton.experimental.gluon") is not None:
        import triton.experimental.gluon  # noqa: F401


def patch_interpreter_gaps(scope) -> None:
    """Interpreter fixes that depend on the triton release, applied per launch.

    triton 3.6's ``tensor.__index__`` is ``int(handle.data)`` on a one-element
    1-d array, which numpy 2.5 refuses; triton 3.8 squeezes first (the same
    definition is harmless there).  It matters for ``tl.range(0, rnumel, ...)``
    in Inductor's looped reductions.
    """
    scope.set_attr(triton.language.tensor, "__index__", lambda self: int(self.handle.data.squeeze()))
