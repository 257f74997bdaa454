"""Inductor's helpers are JIT functions: the interpreter runs them as Python.

Inductor's kernels call ``triton_helpers.*`` and other ``@triton.jit``
functions, and ``triton.language`` itself implements ``tl.sum``,
``tl.zeros``, ... as JIT functions.  Outside ``TRITON_INTERPRET=1`` those are
``JITFunction`` objects, which refuse to be called from Python.  A kernel
runs against a copy of its module's globals (:func:`interpretable`) in which
every JIT function, also inside helper modules, is an interpreted one, and
the language's own JIT functions are swapped for interpreted ones for the
duration of a launch (:func:`language_jit_functions`), whatever the order in
which torch and triton were imported.
"""

from __future__ import annotations

import types
from typing import Any

import triton.language as tl
from triton.runtime import interpreter as interp
from triton.runtime.jit import JITFunction

from .libdevice import cuda_libdevice

_LANGUAGE_MODULES = (tl, tl.core, tl.math, tl.standard)


def _is_language_module(mod) -> bool:
    return any(mod is m for m in _LANGUAGE_MODULES)


class _InterpretedModule(types.ModuleType):
    """A module seen from interpreted code: its JIT functions interpreted."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__(module.__name__)
        self.__wrapped_module = module

    def __getattr__(self, name: str):
        value = interpretable(getattr(self.__wrapped_module, name))
        setattr(self, name, value)
        return value


class _DeviceFunction(interp.InterpretedFunction):
    """An interpreted ``@triton.jit`` function called from inside a kernel.

    Triton's own class patches ``triton.language`` again on every device call
    and never restores it, which leaves the language patched for the next
    real compilation.  The launcher patches once, for the whole kernel, and
    restores afterwards; device calls only run the rewritten function.
    """

    def __call__(self, *args, **kwargs):
        return self.rewrite()(*args, **kwargs)


_converted: dict[int, Any] = {}


def interpretable(value):
    """What interpreted code should see in place of ``value``."""
    key = id(value)
    if key in _converted:
        return _converted[key][1]
    result = value
    if isinstance(value, JITFunction):
        clone = _rebind(value.fn)
        if key in _converted:  # created while its module's globals were filled
            return _converted[key][1]
        result = _DeviceFunction(clone)
    elif isinstance(value, types.ModuleType) and not _is_language_module(value):
        if value.__name__.endswith("libdevice"):
            result = cuda_libdevice()
        elif any(isinstance(v, JITFunction) for v in vars(value).values()):
            result = _InterpretedModule(value)
    # keep ``value`` alive so its id is never reused for another object
    _converted[key] = (value, result)
    return result


_globals: dict[int, tuple[dict, dict]] = {}


def _interpreted_globals(source: dict) -> dict:
    """A copy of a module's globals in which JIT functions and helper modules are interpreted.

    The copy is cached before it is filled, so modules whose helpers call
    each other (``triton_helpers``) resolve to the one copy.
    """
    entry = _globals.get(id(source))
    if entry is not None:
        return entry[1]
    copy = dict(source)
    _globals[id(source)] = (source, copy)
    for name, value in source.items():
        if isinstance(value, (JITFunction, types.ModuleType)):
            copy[name] = interpretable(value)
    return copy


def _rebind(fn: types.FunctionType) -> types.FunctionType:
    """``fn`` over the interpreted copy of its globals."""
    clone = types.FunctionType(
        fn.__code__, _interpreted_globals(fn.__globals__), fn.__name__, fn.__defaults__, fn.__closure__
    )
    clone.__kwdefaults__ = fn.__kwdefaults__
    clone.__annotations__ = dict(fn.__annotations__)
    return clone


_language_jit: list[tuple[types.ModuleType, str, Any]] | None = None


def language_jit_functions():
    """``tl.zeros``, ``tl.sum``, ...: the JIT functions of ``triton.language`` itself."""
    global _language_jit
    if _language_jit is None:
        _language_jit = [
            (mod, name, interpretable(value))
            for mod in (tl, tl.standard, tl.math)
            for name, value in vars(mod).items()
            if isinstance(value, JITFunction)
        ]
    return _language_jit
