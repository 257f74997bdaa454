"""The differences between the supported triton releases: the interpreter, the JIT, the plugin interface.

Used by the Triton plugin (:mod:`ext_codegen.triton_backend`), and by the
registration for the default driver.  Triton imports the plugin's compiler,
and with it this module, while ``import triton`` itself is still running:
nothing here imports triton at module level (see :mod:`ext_codegen.compat`),
and ``TRITON_VERSION`` is computed on first access.
"""

from __future__ import annotations

import dataclasses

from . import lazy_version, major_minor

__all__ = [
    "TRITON_VERSION",
    "ReleaseSpecificBackendOptions",
    "choose_triton_default_driver",
    "kernel_file_name",
    "patch_interpreter_gaps",
    "module_text_without_locations",
    "preload_lazy_triton_modules",
    "run_pass_manager",
    "triton_default_driver_chosen",
]


__getattr__ = lazy_version(__name__, "TRITON_VERSION", lambda: __import__("triton").__version__)


# ---------------------------------------------------------------------------
# The interpreter and the JIT
# ---------------------------------------------------------------------------


def preload_lazy_triton_modules() -> None:
    """Import what Triton imports lazily on a kernel's first launch.

    triton 3.8's ``mangle_type`` imports ``triton.experimental.gluon``, which
    asserts that ``tl.cdiv`` is a ``JITFunction``: it must happen before the
    interpreter swaps the language's JIT functions for interpreted ones.
    (triton 3.6 has no such import; 3.9 keeps it.)
    """
    import importlib.util

    if importlib.util.find_spec("triton.experimental.gluon") is not None:
        import triton.experimental.gluon  # noqa: F401


def patch_interpreter_gaps(scope) -> None:
    """Interpreter fixes that depend on the triton release, applied per launch.

    triton 3.6's ``tensor.__index__`` is ``int(handle.data)`` on a one-element
    1-d array, which numpy 2.5 refuses; triton 3.8 squeezes first (the same
    definition is harmless there and in 3.9).  It matters for
    ``tl.range(0, rnumel, ...)`` in Inductor's looped reductions.
    triton 3.6's ``maxnumf``/``minnumf`` let a NaN win (below).
    """
    import triton
    import triton.language as tl

    scope.set_attr(tl.tensor, "__index__", lambda self: int(self.handle.data.squeeze()))
    if major_minor(triton.__version__) < (3, 8):
        # triton 3.6's interpreter runs ``arith.maxnumf``/``minnumf`` (``tl.maximum``
        # and ``tl.minimum`` without NaN propagation) as ``np.maximum``/``np.minimum``,
        # so a NaN wins; the ops return the other operand, as a GPU and the native
        # path do, and triton 3.8's interpreter uses ``np.fmax``/``np.fmin``.
        import numpy as np
        from triton.runtime.interpreter import InterpreterBuilder

        scope.set_attr(InterpreterBuilder, "create_maxnumf", lambda self, lhs, rhs: self.binary_op(lhs, rhs, np.fmax))
        scope.set_attr(InterpreterBuilder, "create_minnumf", lambda self, lhs, rhs: self.binary_op(lhs, rhs, np.fmin))


def kernel_file_name(jit_fn) -> str:
    """The file a ``JITFunction``'s source was read from.

    triton 3.8 records it (``file_name``); triton 3.6's ``JITFunction`` has no
    such attribute, and the function's own code object names the file.
    """
    name = getattr(jit_fn, "file_name", None)
    if name:
        return name
    return jit_fn.fn.__code__.co_filename


# ---------------------------------------------------------------------------
# The default driver
# ---------------------------------------------------------------------------


def triton_default_driver_chosen(driver) -> bool:
    """Whether Triton's ``DriverConfig`` has picked its default driver yet.

    Triton picks it on first use by asking every backend's driver whether it
    is active and insisting on exactly one; the ``extdev`` driver must answer
    no at that moment and yes later (``triton_backend/extdev_target/driver.py``).
    Every supported triton (3.6 to 3.9) keeps the choice in
    ``DriverConfig._default``; there is no public accessor (reading
    ``driver.default`` would make the choice).
    """
    return getattr(driver, "_default", None) is not None


def choose_triton_default_driver() -> None:
    """Have Triton pick its default driver now (a no-op once it has)."""
    from triton.runtime.driver import driver

    driver.default


# ---------------------------------------------------------------------------
# The backend plugin's compile options and stages
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReleaseSpecificBackendOptions:
    """Option fields only some triton releases pass to a backend's ``parse_options``.

    ``InterpreterOptions`` (``triton_backend.compiler``) derives from this, so
    the fields exist on every release, with defaults that mean "off".
    """

    # triton 3.9 (triton-lang/triton#11005, "Add fpsan_homomorphic_casts flag"):
    # the JIT copies ``knobs.compilation.fpsan_homomorphic_casts`` into every
    # backend's options and reads it back from the parsed options object, so a
    # backend whose options lack the field fails at its first launch.
    # triton 3.6 and 3.8 never pass it; the default leaves their keys unchanged.
    fpsan_homomorphic_casts: bool = False


# triton 3.9 (the triton pinned by torch 2.15) also passes a ``language``
# argument to ``BaseBackend.add_stages(stages, options, language)``; 3.6 and
# 3.8 call it with two.  ``InterpreterBackend.add_stages`` takes
# ``language=None``, which fits both: nothing to switch on here.


# ---------------------------------------------------------------------------
# The native path (triton_backend/native): Triton's own TTIR passes, run on the host
# ---------------------------------------------------------------------------


def run_pass_manager(pm, module, stage_name: str) -> None:
    """Run an ``ir.pass_manager`` on ``module``.

    triton 3.8 and 3.9 take the stage's name as a second argument
    (``pm.run(mod, "make_ttir")``, used for their pass instrumentation);
    triton 3.6's ``run`` takes the module alone.
    """
    try:
        pm.run(module, stage_name)
    except TypeError:  # triton 3.6
        pm.run(module)


def module_text_without_locations(module) -> str:
    """The printed MLIR of ``module``, without debug locations where the release can print it so.

    ``str_nodebug`` exists on triton 3.8 and 3.9; on 3.6 the plain text is
    returned (the caller strips ``loc(...)`` either way).
    """
    printer = getattr(module, "str_nodebug", None)
    return printer() if printer is not None else str(module)
