"""Every difference between the supported torch and triton releases, in one place.

Supported (tested as a matrix, see ``docs/compatibility.md``):

=========  ========  =========================================
torch      triton    pinned by that torch's wheel
=========  ========  =========================================
2.11       3.6       ``triton==3.6.0``
2.13       3.8       (the CPU wheel pins none; CI uses 3.8.0)
2.14       3.8       ``triton~=3.8.0``
2.15       3.9       ``triton~=3.9.0``
=========  ========  =========================================

Each entry below names the release that changed what it papers over and,
where it could be found, the upstream change.

This module is imported by the Triton plugin (``triton_backend.compiler``),
and Triton imports that plugin while ``import triton`` itself is still
running.  So nothing here imports torch or triton at module level: those
imports happen inside functions, or on first access of ``JITFunction``,
``TORCH_VERSION`` and ``TRITON_VERSION`` (module ``__getattr__``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

__all__ = [
    "JITFunction",
    "TORCH_VERSION",
    "TRITON_VERSION",
    "ReleaseSpecificBackendOptions",
    "SCHEDULING_HOOKS",
    "SchedulingHook",
    "forward_release_specific_hooks",
    "installed_versions",
    "triton_unavailable_error",
    "has_triton_on_cpu",
]


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def __getattr__(name: str) -> Any:
    # Lazy module attributes (PEP 562): see the module docstring for why.
    # Each value is computed once, then kept as a plain module global.
    if name == "JITFunction":
        from triton.runtime.jit import JITFunction as value
    elif name == "TORCH_VERSION":
        import torch

        value = _major_minor(torch.__version__)
    elif name == "TRITON_VERSION":
        import triton

        value = _major_minor(triton.__version__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def installed_versions() -> dict[str, str]:
    """The installed torch and triton versions, as their ``__version__`` says."""
    import torch
    import triton

    return {"torch": torch.__version__, "triton": triton.__version__}


# ---------------------------------------------------------------------------
# Triton: the language and the interpreter
# ---------------------------------------------------------------------------


def triton_language():
    import triton.language

    return triton.language


def triton_interpreter():
    from triton.runtime import interpreter

    return interpreter


def is_constexpr_annotation(annotation) -> bool:
    # Annotations are ``tl.constexpr`` objects, or the string "tl.constexpr"
    # when the kernel's module uses ``from __future__ import annotations``.
    if isinstance(annotation, str):
        return annotation.split(".")[-1] == "constexpr"
    return annotation is triton_language().constexpr


def preload_lazy_triton_modules() -> None:
    """Import what Triton imports lazily on a kernel's first launch.

    triton 3.8's ``mangle_type`` imports ``triton.experimental.gluon``, which asserts that
    ``tl.cdiv`` is a ``JITFunction``: before the interpreter swaps the language's JIT
    functions for interpreted ones (triton 3.6 has no such import; 3.9 keeps it).
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
    """
    tl = triton_language()
    scope.set_attr(tl.tensor, "__index__", lambda self: int(self.handle.data.squeeze()))


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


def register_benchmarker(device: str, timer):
    """Time ``device``'s benchmarks with ``timer``; return a function that undoes it.

    torch 2.13 has a registry (``benchmarking.register_benchmarker``, keyed by
    device type, with no way to remove an entry: the undo edits the dict it
    fills).  torch 2.11 has none: every device but cpu is timed by
    ``benchmark_gpu``, so there the benchmarker's ``benchmark`` is wrapped.
    """
    from torch._inductor.runtime import benchmarking

    if hasattr(benchmarking, "register_benchmarker"):
        table = benchmarking._BENCHMARK_DISPATCH
        previous = table.get(device)
        benchmarking.register_benchmarker(device, timer, override=True)

        def undo() -> None:
            if previous is None:
                table.pop(device, None)
            else:
                table[device] = previous

        return undo
    cls = type(benchmarking.benchmarker)
    original = cls.benchmark

    def benchmark(self, fn, fn_args=None, fn_kwargs=None, **kwargs):
        args, kw = fn_args or (), fn_kwargs or {}
        where = kwargs.get("device")
        if where is None and (args or kw):
            try:
                where = self.infer_device(*args, **kw)
            except ValueError:
                where = None
        if where is None or torch_device_type(where) != device:
            return original(self, fn, fn_args, fn_kwargs, **kwargs)
        return timer(self, lambda: fn(*args, **kw), warmup=kwargs.get("warmup", 25), rep=kwargs.get("rep", 100))

    cls.benchmark = benchmark

    def undo() -> None:
        cls.benchmark = original

    return undo


def template_heuristic_registry():
    """Inductor's registry of GEMM template heuristics by device type, or ``None`` where a torch has none.

    torch 2.13 looks configs up in ``template_heuristics.registry`` by device
    type; a torch without that module picks them by other means, and there
    is nothing to register.
    """
    try:
        from torch._inductor.template_heuristics import registry
    except ImportError:
        return None
    return registry if hasattr(registry, "_TEMPLATE_HEURISTIC_REGISTRY") else None


def kernel_file_name(jit_fn) -> str:
    """A ``JITFunction``'s source file: its ``file_name`` (triton 3.8), or its code object's (triton 3.6)."""
    return getattr(jit_fn, "file_name", None) or jit_fn.fn.__code__.co_filename


def single_config_options() -> dict[str, bool]:
    """Inductor's options for one configuration per kernel, those this release has.

    ``triton.autotune_pointwise`` for pointwise kernels, the deterministic
    mode's filter (``test_configs.force_filter_reduction_configs``) for reductions.
    """
    from torch._inductor import config

    options = {"triton.autotune_pointwise": False}
    if hasattr(config.test_configs, "force_filter_reduction_configs"):
        options["test_configs.force_filter_reduction_configs"] = True
    return options


def torch_device_type(device) -> str:
    import torch

    return torch.device(device).type if isinstance(device, str) else device.type


# ---------------------------------------------------------------------------
# Triton: the backend plugin's compile options
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


# triton 3.9 (torch 2.15's) also passes ``language`` to ``BaseBackend.add_stages``; 3.6 and 3.8
# do not.  ``InterpreterBackend.add_stages`` takes ``language=None``: nothing to switch on here.


# ---------------------------------------------------------------------------
# torch: Inductor's scheduling hooks
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SchedulingHook:
    """A ``BaseScheduling`` hook that only some supported torch releases have."""

    name: str
    added: str  # first supported torch release that has it
    removed: str | None  # first supported torch release without it again
    upstream: str  # the upstream work it came with
    doc: str  # what the hook decides, for the forwarder's docstring


SCHEDULING_HOOKS: tuple[SchedulingHook, ...] = (
    # torch 2.13: nested reductions (an outer reduction and a grouped reduction
    # of its result in one kernel).  Absent in 2.11; in 2.15 replaced by
    # ``codegen_staged_reduction``.
    SchedulingHook(
        "codegen_nested_reduction",
        added="2.13",
        removed="2.15",
        upstream="pytorch/pytorch#182896, #182897 (nested reductions)",
        doc="Emit a kernel for a reduction nested inside another (torch 2.13 and 2.14).",
    ),
    # torch 2.14: may a reduction be fused into a template's epilogue?  The
    # base answers False and TritonScheduling keeps that; NVGEMM overrides it.
    SchedulingHook(
        "can_fuse_reduction_epilogue",
        added="2.14",
        removed=None,
        upstream="NVGEMM reduction epilogues (discussed in pytorch/pytorch#190813)",
        doc="May a reduction join a template's epilogue? (torch 2.14 and later)",
    ),
    # torch 2.15: staged reductions and sub-parent epilogues.  SIMDScheduling
    # implements the last two, so without forwarding the extension would take
    # BaseScheduling's answers and diverge from Inductor's Triton backend.
    SchedulingHook(
        "can_fuse_reduction_pair",
        added="2.15",
        removed=None,
        upstream="staged reductions (pytorch/pytorch#190594, #190595, #191974)",
        doc="May two reductions be fused as one staged reduction? (torch 2.15 and later)",
    ),
    SchedulingHook(
        "codegen_staged_reduction",
        added="2.15",
        removed=None,
        upstream="staged reductions (pytorch/pytorch#190594, #190595, #191974)",
        doc="Emit the kernel of a staged (formerly nested) reduction. (torch 2.15 and later)",
    ),
    SchedulingHook(
        "has_sub_parent_epilogue",
        added="2.15",
        removed=None,
        upstream="sub-parent epilogues (pytorch/pytorch#190594)",
        doc="Do these nodes read a reduction's parent tile in a sub-parent layout? (torch 2.15 and later)",
    ),
)


def _forwarder(cls: type, hook: SchedulingHook, base_method, delegate: str):
    name = hook.name

    def forward(self, *args, **kwargs):
        return getattr(getattr(self, delegate), name)(*args, **kwargs)

    # The signature (via __wrapped__) is the installed base hook's.
    functools.update_wrapper(forward, base_method)
    forward.__doc__ = hook.doc
    forward.__module__ = cls.__module__
    forward.__qualname__ = f"{cls.__qualname__}.{name}"
    return forward


def forward_release_specific_hooks(cls: type, delegate: str = "_triton_scheduling") -> list[str]:
    """Give ``cls`` a forwarder to ``self.<delegate>`` for each hook of ``SCHEDULING_HOOKS``
    that the installed torch's ``BaseScheduling`` defines and ``cls`` does not.

    Returns the names it added.  A hook of a newer torch that is in no table
    stays missing, and ``tests/inductor/test_scheduling_hooks.py`` says which.
    """
    from torch._inductor.scheduler import BaseScheduling

    added = []
    for hook in SCHEDULING_HOOKS:
        base_method = vars(BaseScheduling).get(hook.name)
        if base_method is None or hook.name in vars(cls):
            continue
        setattr(cls, hook.name, _forwarder(cls, hook, base_method, delegate))
        added.append(hook.name)
    return added


# ---------------------------------------------------------------------------
# torch: whether Triton is usable on a device
# ---------------------------------------------------------------------------


def triton_unavailable_error() -> type[Exception]:
    """The exception ``DeviceInterface.raise_if_triton_unavailable`` must raise.

    torch 2.14 added ``torch._dynamo.exc.TritonUnavailableError`` (a
    ``RuntimeError``), and its ``torch.utils._triton.has_triton()`` catches that
    class only: any other error escapes ``has_triton()`` instead of making it
    answer False.  torch 2.11 and 2.13 have no such class; ``RuntimeError`` there.
    """
    from torch._dynamo import exc

    return getattr(exc, "TritonUnavailableError", RuntimeError)


def has_triton_on_cpu() -> bool:
    """``torch.utils._triton.has_triton()``, with the cpu device counted.

    torch 2.15 skips cpu unless asked (``has_triton(include_cpu=True)``;
    Inductor asks when ``config.cpu_backend == "triton"``, which
    ``register("cpu")`` sets).  Earlier releases take no argument and always
    count cpu.
    """
    import inspect

    from torch.utils._triton import has_triton

    if "include_cpu" in inspect.signature(has_triton).parameters:
        return has_triton(include_cpu=True)
    return has_triton()


# ---------------------------------------------------------------------------
# torch: registries and device snippets (no switch needed; recorded here)
# ---------------------------------------------------------------------------
#
# * torch 2.13 added ``codegen.common._initialize_device_op_overrides`` (2.11
#   has none).  ``registration`` calls ``get_device_op_overrides("cpu")``
#   instead, which fills the table on first use in every supported release.
# * ``DeviceOpOverrides`` gained ``current_stream``/``stream_handle`` (2.13),
#   ``current_device_idx_expr`` (2.14), and ``aten_device_type``,
#   ``uses_gpu_cpp_wrapper``, ``cpp_kernel_launch_supports_pdl`` (2.15).  All
#   have base implementations; the Python wrapper on cpu calls none of them.
# * Dynamo's ``DeviceInterface`` gained ``is_gpu`` (default False),
#   ``exposes_streams``, ``get_multi_processor_count``,
#   ``get_cpp_device_options`` and ``get_cache_system_info`` in 2.15; the
#   defaults fit a host device.
