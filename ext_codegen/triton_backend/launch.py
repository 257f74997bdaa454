"""One launch of a kernel in Triton's interpreter: what the driver's launcher calls.

:class:`~ext_codegen.triton_backend.driver.InterpreterLauncher` receives the
arguments a CUDA launcher would and calls :func:`launch` with the kernel's
``JITFunction``, the grid and the arguments by name.  A launch widens the
grid (:mod:`.widening`), applies Triton's language patch (:mod:`.language`),
closes the interpreter's gaps (:mod:`.gaps`), installs the fast paths
(:mod:`.fastpath`), types the scalar arguments as the kernel's signature
says, and runs every program instance in turn; the patch scope is restored
afterwards.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
import triton.language as tl
from triton.runtime import interpreter as interp

from ..compat import triton_versions
from . import fastpath, gaps, replay
from .gaps import scans, sorting
from .gaps.dtypes import to_numpy
from .gaps.jit_helpers import interpretable
from .language import patch_language
from .widening import widen_x_block

#: Every kernel launched in this process (its ``JITFunction``), with what its
#: launches reuse: the interpretable function, its rewritten body, its
#: constexpr parameters and the ``JITFunction`` with its Python function.
prepared: dict[Any, tuple] = {}

#: Number of kernel launches the package's launcher ran in this process, in the
#: interpreter or natively (:mod:`.native`; a natively run launch that the
#: check mode also runs here counts once).  The conformance tool uses it to
#: tell "ran our kernels" from "fell back".
launch_count = 0
#: Number of program instances the interpreter executed (after widening).
program_count = 0

#: Instruments: the one hook through which a tool wraps a launch (the
#: debugging tools of ``ext_codegen.tools.debug`` use it; the plugin knows none
#: of them).  A tool appends to this list, or returns instruments from an
#: entry point of :data:`INSTRUMENTS_GROUP`.  Each is called once per
#: launch, after the language patch, the gaps and the fast paths are
#: installed, as
#: ``instrument(kernel, fn, args, scope, builder)``: ``kernel`` is the kernel's
#: ``JITFunction`` (its ``__name__``, its generated ``file_name``), ``fn`` the
#: rewritten Python function that runs one program instance, ``args`` the
#: launch's arguments by name (tensors as tensors, after widening), ``scope``
#: the launch's patch scope (an attribute set through it is restored when the
#: launch ends) and ``builder`` the interpreter's builder (``grid_dim`` is
#: set).  It returns ``(fn, after)``: the function to call for every program
#: instance (``fn`` itself or a wrapper of it) and ``None`` or a callable run
#: once the last program has returned.  With the list empty and no
#: instrument added by an entry point, a launch pays one call per entry point
#: and nothing is installed.
instruments: list = []

#: The entry-point group through which installed packages add instruments
#: without the plugin naming them: each entry point names a callable that
#: takes no argument and returns the instruments (a list, possibly empty) to
#: add to :data:`instruments` for the launch about to run.  The group is read
#: and its entry points loaded once per process, at the first launch; then
#: every launch calls each of them (this package's own,
#: :func:`ext_codegen.tools.debug.environment.instruments`, reads three
#: environment variables).  An entry point that fails to load is skipped
#: with a warning, so that kernels still run.
INSTRUMENTS_GROUP = "ext_codegen.instruments"

_instrument_sources: list | None = None


def instrument_sources() -> list:
    """The callables of the :data:`INSTRUMENTS_GROUP` entry points, loaded on the first call, by name."""
    global _instrument_sources
    if _instrument_sources is None:
        import warnings
        from importlib.metadata import entry_points

        loaded = []
        for entry in sorted(entry_points(group=INSTRUMENTS_GROUP), key=lambda e: e.name):
            try:
                loaded.append(entry.load())
            except Exception as err:  # a broken tool must not stop kernels from running
                warnings.warn(f"ext_codegen: the {INSTRUMENTS_GROUP} entry point {entry.name} = {entry.value} "
                              f"could not be loaded and adds no instruments: {err!r}", RuntimeWarning, stacklevel=2)
        _instrument_sources = loaded
    return _instrument_sources


def active_instruments() -> list:
    """The instruments of this launch: :data:`instruments`, then those the entry points add."""
    active = instruments
    for source in _instrument_sources if _instrument_sources is not None else instrument_sources():
        added = source()
        if added:
            active = [*active, *added]
    return active


def _live(jit_fn):
    """The ``JITFunction`` with its Python function attached.

    When Inductor compiles in its worker processes, the kernel object that
    comes back has had its function dropped for pickling (``fn.fn is None``);
    the kernel's module file is still on disk, so it is loaded again here.
    """
    if jit_fn.fn is not None:
        return jit_fn
    import importlib.util

    file_name = triton_versions.kernel_file_name(jit_fn)
    spec = importlib.util.spec_from_file_location(f"ext_codegen_kernel_{abs(hash(file_name))}", file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kernel = getattr(module, jit_fn.__name__)
    return getattr(kernel, "fn", kernel)


def _is_constexpr_annotation(annotation) -> bool:
    # Annotations are ``tl.constexpr`` objects, or the string "tl.constexpr"
    # when the kernel's module uses ``from __future__ import annotations``.
    if isinstance(annotation, str):
        return annotation.split(".")[-1] == "constexpr"
    return annotation is tl.constexpr


def _prepare(jit_fn):
    entry = prepared.get(jit_fn)
    if entry is None:
        live = _live(jit_fn)
        ifn = interpretable(live)
        fn = ifn.rewrite()
        constexprs = {n for n, ty in live.fn.__annotations__.items() if _is_constexpr_annotation(ty)}
        entry = prepared[jit_fn] = (ifn, fn, constexprs, live)
    return entry


# Scalar argument types of a kernel signature (``"fp64"``, ``"i64"``, ...).
_SCALAR_TYPES = {
    "i1": tl.int1, "i8": tl.int8, "i16": tl.int16, "i32": tl.int32, "i64": tl.int64,
    "u8": tl.uint8, "u16": tl.uint16, "u32": tl.uint32, "u64": tl.uint64,
    "fp16": tl.float16, "bf16": tl.bfloat16, "fp32": tl.float32, "fp64": tl.float64,
}


def _scalar_argument(value, signature_type: str | None):
    """A scalar kernel argument with the type the kernel's signature declares.

    Out of the box the interpreter types a Python int by its value (int32 when
    small) and leaves a float a Python float, which Triton then treats as an
    fp32 constant.  Inductor passes a 0-d float64 cpu tensor to a kernel by
    value (``tmp1 = in_ptr1``, signature ``fp64``): ``libdevice.atan2(x, tmp1)``
    then met ``(fp64, fp32)`` and failed (found by ``tests/end_to_end/test_fuzz.py``).  A
    GPU launcher converts by the signature; so does this.
    """
    ty = _SCALAR_TYPES.get(signature_type or "")
    if ty is None or not isinstance(value, (bool, int, float)):
        return interp._implicit_cvt(value)
    if ty is tl.bfloat16:
        data = to_numpy(torch.tensor([value], dtype=torch.bfloat16), ty)
    else:
        data = np.array([value], dtype=interp._get_np_dtype(ty))
    return tl.tensor(interp.TensorHandle(data, ty), ty)


def _switches(debug: bool, sanitize_overflow: bool) -> tuple:
    """Everything outside a launch's arguments that changes which builder calls its body makes."""
    return (debug, sanitize_overflow, fastpath.ENABLED, scans.ENABLED, scans.TRANSLATE, sorting.ENABLED)


def launch(jit_fn, grid: tuple[int, int, int], args: dict[str, Any], signature: dict[str, str] | None = None,
           debug: bool = False, sanitize_overflow: bool = False) -> None:
    """Run ``jit_fn`` over ``grid`` with ``args`` (all parameters, by name).

    ``signature`` (parameter name to Triton type string) types scalar arguments.
    ``debug`` and ``sanitize_overflow`` are the kernel's compile options of
    those names, which the interpreter's own defaults would override: with
    ``debug`` every ``tl.device_assert`` is checked (Inductor's index asserts
    among them) and a failing one raises ``AssertionError``; without it an
    assert costs nothing.
    """
    global launch_count, program_count
    launch_count += 1
    ifn, fn, constexprs, live = _prepare(jit_fn)
    grid, args = widen_x_block(live, grid, args)
    call_args = {
        name: value if name in constexprs else _scalar_argument(value, (signature or {}).get(name))
        for name, value in args.items()
    }
    active = active_instruments()
    recorded = None
    if not active and replay.ENABLED:
        recorded = replay.lookup(live, call_args, constexprs, grid, _switches(debug, sanitize_overflow))
    # A replay that calls only builder methods needs none of the language's patches.
    scope = interp._LangPatchScope() if recorded is not None and recorded.builder_only else patch_language()
    try:
        builder = interp.interpreter_builder
        if (debug, sanitize_overflow) != (builder.options.debug, builder.options.sanitize_overflow):
            options = dataclasses.replace(builder.options, debug=debug, sanitize_overflow=sanitize_overflow)
            scope.set_attr(builder, "options", options)
        gaps.install(scope, builder, language=not (recorded is not None and recorded.builder_only))
        fastpath.install(scope, builder, args)
        gx, gy, gz = grid
        program_count += gx * gy * gz
        builder.set_grid_dim(gx, gy, gz)
        after = []
        if active:
            for instrument in list(active):
                fn, done = instrument(live, fn, args, scope, builder)
                if done is not None:
                    after.append(done)

        def body(set_grid_idx):
            for x in range(gx):
                for y in range(gy):
                    for z in range(gz):
                        set_grid_idx(x, y, z)
                        fn(**call_args)

        if recorded is None:
            body(builder.set_grid_idx)
        else:
            recorded.run(body, builder, scope, [v for v in args.values() if isinstance(v, torch.Tensor)])
        for done in after:
            done()
    finally:
        scope.restore()
