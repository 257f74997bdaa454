"""The gaps between what Inductor emits and what Triton's interpreter runs, one file each.

Triton's interpreter executes a kernel's Python source one program instance
at a time on numpy arrays.  Out of the box it cannot run what Inductor
generates.  Each module here closes one gap, by replacing or wrapping a
method of the interpreter's builder or a name of ``triton.language``, and
:func:`install` applies them all for one launch, through the launch's patch
scope (which restores everything afterwards: nothing outside a launch sees
a change).

=====================  ==========================================================
module                 gap it closes
=====================  ==========================================================
:mod:`.jit_helpers`    Inductor's ``triton_helpers`` and the language's own
                       functions are ``@triton.jit``: run them as Python
:mod:`.libdevice`      ``libdevice.*`` calls run the same-named PyTorch operation
:mod:`.bf16`           bf16 casts round as eager does; bf16 arithmetic and
                       constants (raw bit patterns in the interpreter)
:mod:`.comparisons`    comparisons keep their boolean (``int1``) type
:mod:`.atomics`        atomics with broadcast operands; bf16 atomics
:mod:`.reductions`     Inductor's combine functions reduced with numpy
:mod:`.scans`          Inductor's scan combine functions over whole blocks
:mod:`.sorting`        Inductor's bitonic ``sort_with_index`` as one numpy sort
``triton_versions``    fixes that depend on the triton release
                       (:mod:`ext_codegen.compat.triton_versions`)
=====================  ==========================================================

:mod:`.dtypes` holds the conversions they share.

What it may import: torch, numpy, triton, :mod:`ext_codegen.compat` and its
own modules; never the rest of the plugin, Inductor's codegen or the
extension points (Inductor's runtime ``triton_helpers`` is read, lazily, by
:mod:`.reductions` and :mod:`.sorting`).
"""

from __future__ import annotations

import triton.language as tl

from ...compat import triton_versions

# triton 3.8 imports a module on a kernel's first launch that insists the
# language's JIT functions are real ones: import it before any are swapped.
triton_versions.preload_lazy_triton_modules()

from . import atomics, bf16, comparisons, jit_helpers, libdevice, reductions, scans, sorting  # noqa: E402


def install(scope, builder, language: bool = True) -> None:
    """Close every gap on ``builder`` (the interpreter's) for one launch; ``scope`` restores.

    ``language=False`` closes only the builder's gaps: a replayed launch
    (:mod:`ext_codegen.triton_backend.replay`) that calls builder methods alone needs no more.
    """
    cls = type(builder)
    scope.set_attr(cls, "cast_impl", bf16.cast)
    scope.set_attr(cls, "get_bf16", bf16.get_bf16)
    scope.set_attr(cls, "create_extern_elementwise", libdevice.extern_elementwise)
    for name in bf16.ARITHMETIC:
        scope.set_attr(cls, name, bf16.bf16_arithmetic(getattr(cls, name)))
    scope.set_attr(cls, "binary_op", comparisons.comparisons_are_int1(cls.binary_op))
    for name in atomics.ATOMICS:
        scope.set_attr(cls, name, atomics.dense_operands(getattr(cls, name)))
    scope.set_attr(cls, "create_atomic_rmw", atomics.bf16_atomic_rmw(cls.create_atomic_rmw))
    # the language's own combine functions are compared by identity (the
    # interpreter's numpy reductions): swapped for every launch, replayed or not
    for mod, name, value in jit_helpers.language_jit_functions():
        scope.set_attr(mod, name, value)
    if not language:
        return
    triton_versions.patch_interpreter_gaps(scope)
    scope.set_attr(tl, "reduce", reductions.reduce)
    scope.set_attr(tl, "associative_scan", scans.associative_scan)
    sorting.install(scope)
