"""Triton's own patch of ``triton.language`` for interpretation, recorded once and replayed.

Before a kernel runs, Triton's interpreter points the language's builtins
(``tl.load``, ``tl.arange``, ...) at its numpy builder; this has to happen for
every launch and be undone afterwards, so that real compilations in the same
process see the language untouched.
"""

from __future__ import annotations

import types
from typing import Any

import triton.language as tl
from triton.runtime import interpreter as interp

from .gaps.libdevice import cuda_libdevice

# A function whose globals name both ``triton.language`` and
# ``triton.language.core``, so that one ``_patch_lang`` covers every module
# that kernels and Triton's own helpers (``tl.standard`` uses ``core``) call.
_LANGUAGE_PROBE = types.FunctionType(compile("None", "<ext_codegen>", "eval"), {"tl": tl, "core": tl.core})

_LANGUAGE_PATCHES: list[tuple[Any, str, Any]] | None = None


def patch_language():
    """Triton's own patches of ``triton.language`` for interpretation, in a new scope.

    ``interp._patch_lang`` (and patching libdevice the same way) walks every
    member of half a dozen modules and classes with ``inspect.getmembers`` and
    wraps each builtin: about half of a small launch's fixed cost.  The
    attributes it sets do not depend on the launch, so the first launch records
    them and later ones set the same objects again, through the same kind of
    scope, restored the same way.
    """
    global _LANGUAGE_PATCHES
    if _LANGUAGE_PATCHES is not None:
        scope = interp._LangPatchScope()
        for obj, name, value in _LANGUAGE_PATCHES:
            scope.set_attr(obj, name, value)
        return scope
    scope = interp._patch_lang(_LANGUAGE_PROBE)
    interp._patch_builtin(cuda_libdevice(), interp.interpreter_builder, scope)
    try:  # the raw attribute (a property or staticmethod as stored, not as looked up)
        _LANGUAGE_PATCHES = [(obj, name, vars(obj)[name]) for obj, name, _ in scope._changes]
    except (AttributeError, KeyError, TypeError):  # a Triton that patches differently: no replay
        _LANGUAGE_PATCHES = None
    return scope
