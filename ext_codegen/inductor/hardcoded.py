"""What Inductor still hard-codes for CUDA, answered for a new device in one place, reversibly.

The four extension points are not quite enough for a device Inductor has
never heard of.  Registering them for ``extdev`` (:mod:`ext_codegen.inductor.registration`)
also calls :func:`apply`, which makes each change below and records how to
undo it; :func:`revert` undoes them in reverse order.  Each entry names the
upstream issue that would make it unnecessary; together they are the list a
vendor would bring upstream.

* **benchmarker** (pytorch#189138): every device but cpu is timed with CUDA
  events (``benchmark_gpu``): "Torch not compiled with CUDA enabled" while
  autotuning.  Answered through ``benchmarking.register_benchmarker``: host
  time, since the device runs synchronously.
* **template heuristics** (pytorch#189138): max-autotune's Triton GEMM
  templates look their configs up by device type, and there are none for a
  new one ("No template heuristic found").  The cpu ones are registered for it.
* **GPU_TYPES** (pytorch#189137): ``is_gpu(device)`` is a fixed list; a device
  not on it gets no Triton GEMM templates and no device guards in the
  wrapper.  A run-time patch: the name is appended in place and
  removed on revert.
* **is_triton** (pytorch#189137): ``ir.is_triton(device)``, which decides
  whether lowerings take their Triton path (call ATen for the special
  functions only C++ implements, plan argmax and split reductions for Triton),
  reads ``config.<device>_backend`` for cpu, cuda and xpu and otherwise asks
  whether the device's scheduling *is a subclass of* ``TritonScheduling``;
  a delegating scheduling is not.  Without an answer, ``igamma`` reached
  Triton's code generator.  The second run-time patch: the function is replaced by one that
  answers yes for the device, in the three modules that hold it (``ir``, and
  ``lowering`` and ``kernel.mm``, which import it by name), and put back on
  revert.
* **is_big_gpu** (pytorch#189138): max-autotune offers a GPU its Triton GEMM
  templates only if ``utils.is_big_gpu`` finds at least 68 SMs in its
  properties; the device answers the host's processor count, as cpu does
  (:class:`ext_codegen.inductor.device_interface.ExtdevProperties`, which says why).
  A run-time patch: the function answers yes for the device, and is put back
  on revert.
* **two-step variance** (pytorch#189137): ``lowering.use_two_step_variance``
  gives only ``device.type == "cpu"`` the cpu threshold (the two-step sum for
  up to 1024 elements); every other device gets the Welford reduction, whose
  persistent Triton form costs three more block operations an element in the
  interpreter: a compiled 4096x1024 ``layer_norm`` ran about 12 % slower on
  extdev than on cpu.  A run-time patch: the function answers for
  the device as for cpu, and is put back on revert.
* **autotune child** (pytorch#189137): Inductor's autotune subprocess is a bare
  interpreter that must know the device to unpickle a job; the
  ``torch.backends`` autoload (:mod:`ext_codegen.autoload`) registers it there
  too.  Nothing to do here.
"""

from __future__ import annotations

from collections.abc import Callable

from ..compat import torch_versions

_undo: dict[str, list[Callable[[], None]]] = {}


def apply(device: str) -> None:
    """Make every change for ``device`` (once), remembering how to undo it."""
    if device in _undo:
        raise RuntimeError(f"the changes for {device!r} are already applied")
    undo: list[Callable[[], None]] = []
    try:
        for change in (_benchmarker, _template_heuristics, _gpu_types, _big_gpu, _is_triton, _two_step_variance):
            undo.append(change(device))
    except BaseException:
        for step in reversed(undo):
            step()
        raise
    _undo[device] = undo


def revert(device: str) -> None:
    """Undo what :func:`apply` did for ``device``, in reverse order."""
    for step in reversed(_undo.pop(device)):
        step()


def applied(device: str) -> bool:
    """Whether :func:`apply` is in effect for ``device``."""
    return device in _undo


def _time_on_host(benchmarker, _callable, *, warmup: int, rep: int, **kwargs) -> float:
    # The device runs synchronously on the host: host time is device time.
    return benchmarker.benchmark_cpu(_callable, warmup=warmup, rep=rep)


def _benchmarker(device: str) -> Callable[[], None]:
    return torch_versions.register_benchmarker(device, _time_on_host)


def _template_heuristics(device: str) -> Callable[[], None]:
    registry = torch_versions.template_heuristic_registry()
    added = []
    if registry is None:
        return lambda: None
    for (template, dev, op), cls in list(registry._TEMPLATE_HEURISTIC_REGISTRY.items()):
        key = (template, device, op)
        if dev == "cpu" and key not in registry._TEMPLATE_HEURISTIC_REGISTRY:
            registry.register_template_heuristic(template, device, op_name=op)(cls)
            added.append(key)

    def undo() -> None:
        for key in added:
            registry._TEMPLATE_HEURISTIC_REGISTRY.pop(key, None)
        for key in [k for k in registry._HEURISTIC_CACHE if k[1] == device]:
            del registry._HEURISTIC_CACHE[key]

    return undo


def _gpu_types(device: str) -> Callable[[], None]:
    from torch._inductor import utils

    # get_gpu_type() is cached and asserts that at most one listed device type
    # is available: pin its answer before the list grows.
    utils.get_gpu_type()
    utils.GPU_TYPES.append(device)

    def undo() -> None:
        utils.GPU_TYPES.remove(device)

    return undo


def _big_gpu(device: str) -> Callable[[], None]:
    import torch
    from torch._inductor import utils

    original = utils.is_big_gpu

    def is_big_gpu(index_or_device=0) -> bool:
        if isinstance(index_or_device, torch.device) and index_or_device.type == device:
            return True  # a GEMM template's configs fit the interpreter whatever the processor count
        return original(index_or_device)

    utils.is_big_gpu = is_big_gpu

    def undo() -> None:
        utils.is_big_gpu = original

    return undo


def _is_triton(device: str) -> Callable[[], None]:
    import importlib

    from torch._inductor import ir

    original = ir.is_triton

    def is_triton(x) -> bool:
        return ir.get_device_type(x) == device or original(x)

    holders = [importlib.import_module(f"torch._inductor.{name}") for name in ("ir", "lowering", "kernel.mm")]
    holders = [m for m in holders if getattr(m, "is_triton", None) is original]
    for module in holders:
        module.is_triton = is_triton

    def undo() -> None:
        for module in holders:
            module.is_triton = original

    return undo


def _two_step_variance(device: str) -> Callable[[], None]:
    from torch._inductor import ir, lowering

    original = getattr(lowering, "use_two_step_variance", None)
    if original is None:
        return lambda: None

    # Releases differ in what follows keepdim (2.13 adds input_dtype): passed through untouched.
    def use_two_step_variance(x, axis, keepdim, *args, **kwargs) -> bool:
        if ir.get_device_type(x) == device:
            return _cpu_two_step_rule(x, axis, keepdim)
        return original(x, axis, keepdim, *args, **kwargs)

    lowering.use_two_step_variance = use_two_step_variance

    def undo() -> None:
        lowering.use_two_step_variance = original

    return undo


def _cpu_two_step_rule(x, axis, keepdim) -> bool:
    """The cpu answer of ``use_two_step_variance``: a static reduction of at most
    ``config.cpp.use_two_step_variance_threshold`` elements, with more than one output."""
    import sympy
    from torch._inductor import config, lowering
    from torch._inductor.utils import sympy_product

    axis = lowering._validate_reduction_axis(x, axis)
    kwargs = lowering._make_reduction_inner(x, axis=axis, keepdims=keepdim, dtype=None, override_return_dtype=None)
    numel = sympy_product(kwargs["reduction_ranges"])
    return (isinstance(numel, sympy.Integer) and int(numel) <= config.cpp.use_two_step_variance_threshold
            and sympy_product(kwargs["ranges"]) != 1)
