"""The differences between the supported torch releases: Inductor's and Dynamo's interfaces.

Used by the extension points and their registration (:mod:`ext_codegen.inductor`).
Nothing here imports torch at module level (see :mod:`ext_codegen.compat`):
each function imports what it reads, and ``TORCH_VERSION`` is computed on
first access.
"""

from __future__ import annotations

import dataclasses
import functools

from . import lazy_version

__all__ = [
    "TORCH_VERSION",
    "SCHEDULING_HOOKS",
    "SchedulingHook",
    "forward_release_specific_hooks",
    "has_triton_on_cpu",
    "register_benchmarker",
    "single_config_options",
    "template_heuristic_registry",
    "triton_unavailable_error",
]


__getattr__ = lazy_version(__name__, "TORCH_VERSION", lambda: __import__("torch").__version__)


# ---------------------------------------------------------------------------
# Inductor: benchmarking, GEMM templates, autotuning
# ---------------------------------------------------------------------------


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
        if where is None or _device_type(where) != device:
            return original(self, fn, fn_args, fn_kwargs, **kwargs)
        return timer(self, lambda: fn(*args, **kw), warmup=kwargs.get("warmup", 25), rep=kwargs.get("rep", 100))

    cls.benchmark = benchmark

    def undo() -> None:
        cls.benchmark = original

    return undo


def _device_type(device) -> str:
    import torch

    return torch.device(device).type if isinstance(device, str) else device.type


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


def single_config_options() -> dict[str, bool]:
    """Inductor options under which its heuristics emit one configuration per kernel.

    ``triton.autotune_pointwise`` (every release) gives pointwise kernels one
    configuration; ``test_configs.force_filter_reduction_configs`` (the
    deterministic mode's filter, without its other effects) does it for
    reductions.  Only the options this release has are returned.
    """
    from torch._inductor import config

    options = {"triton.autotune_pointwise": False}
    if hasattr(config.test_configs, "force_filter_reduction_configs"):
        options["test_configs.force_filter_reduction_configs"] = True
    return options


# ---------------------------------------------------------------------------
# Inductor: the scheduling hooks
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
# Dynamo and torch.utils: whether Triton is usable on a device
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
# Registries and device snippets (no switch needed; recorded here)
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
