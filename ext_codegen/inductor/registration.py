"""Registering the four extension points for a device, exactly and reversibly.

Inductor keeps three registries keyed by device type: the codegen pair
(scheduling and wrapper) of ``register_backend_for_device``, the device op
overrides of ``register_device_op_overrides`` and Dynamo's device interfaces
of ``register_interface_for_device``.  Each is filled lazily with Inductor's
defaults, so :func:`~ext_codegen.register` first forces that initialisation (otherwise the
defaults would overwrite ours later), remembers what it replaces, and
:func:`~ext_codegen.unregister` puts exactly that back.

Inductor also reads ``config.cpu_backend`` (and ``cuda_backend``) to decide
whether a device's kernels are Triton: it upcasts bf16/fp16 arithmetic to
float32, plans argmax indices and benchmarks fusions only for Triton devices.
Registering on cpu therefore also sets ``torch._inductor.config.cpu_backend``
to ``"triton"``, and unregistering restores its previous value.

On cpu, kernels are also compiled in the calling process
(``config.compile_threads = 1`` while registered).  Triton keeps one *active*
driver per process; Inductor switches it to the ``cpu`` backend just before it
compiles a cpu kernel, but a kernel compiled in a worker process is loaded in
the parent under whatever driver is active there (CUDA's, on a GPU machine),
which cannot load it.  Compiling in-process keeps the switch and the load
together; on the 2-core machines this package targets, parallel compilation
gains little anyway.

A further entry keeps caches apart: the backend registers a custom FX pass
(which changes nothing in the graph) whose ``uuid`` names this package, its
version and a hash of its sources.  Inductor folds every registered backend pass's uuid into the
FX graph cache key, so a graph compiled by stock Inductor is never served to
this backend, nor the other way round.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
from typing import Any

import torch
from torch._dynamo import device_interface as dyn_di
from torch._inductor import config as inductor_config
from torch._inductor.codegen import common as codegen_common
from torch._inductor.custom_graph_pass import CustomGraphModulePass

from ..compat import triton_versions
from ..names import DEVICE, HOST, VERSION
from . import hardcoded, pending
from .device_interface import CPUDeviceInterface, ExtdevDeviceInterface
from .device_op_overrides import CPUDeviceOpOverrides, ExtdevDeviceOpOverrides
from .scheduling import ExtensionScheduling
from .wrapper import ExtensionWrapperCodegen

SUPPORTED_DEVICES = (HOST, "cuda", DEVICE)
_MISSING = object()

# The device op overrides and interface each device gets: cuda keeps its own
# streams, guards and interface; the two host-memory devices need ours.
_OVERRIDES = {HOST: (CPUDeviceOpOverrides, CPUDeviceInterface), DEVICE: (ExtdevDeviceOpOverrides, ExtdevDeviceInterface)}


class CacheKeyPass(CustomGraphModulePass):
    """An FX pass that leaves the graph alone and exists for its ``uuid``."""

    def __init__(self, device: str) -> None:
        self.device = device

    def __call__(self, gm: torch.fx.GraphModule) -> None:
        return None

    def uuid(self) -> str:
        from ..triton_backend.compiler import PLUGIN_VERSION

        return f"ext_codegen-{VERSION}-plugin{PLUGIN_VERSION}-{source_hash()}-{self.device}"


def source_hash() -> str:
    """A hash of the package's Python sources and C headers (the native path's prelude).

    Part of the FX graph cache key, as Inductor's own key includes a hash of
    Inductor's sources: a graph compiled by an edited copy of this package
    (a template being adapted, say) is not served by the cache as if nothing
    had changed.  Computed (once) by the plugin's own hash, over the package's root.
    """
    from ..triton_backend import compiler

    return compiler.source_hash(pathlib.Path(__file__).parent.parent)


@dataclasses.dataclass
class _Saved:
    codegen: Any
    backend_pass: Any
    backend_config: Any
    op_overrides: Any
    interface: Any
    backend_option: Any
    compile_threads: Any


_registered: dict[str, _Saved] = {}


def _initialise_inductor_registries() -> None:
    codegen_common.init_backend_registration()
    codegen_common.get_device_op_overrides("cpu")  # fills the table on first use
    dyn_di.get_interface_for_device("cpu")  # runs init_device_reg once


def register(device: str = "cpu") -> None:
    """Make Inductor compile ``device`` tensors with the extension backend."""
    if device not in SUPPORTED_DEVICES:
        raise ValueError(
            f"ext_codegen cannot register for device {device!r}: supported are {SUPPORTED_DEVICES}"
        )
    if device in _registered:
        raise RuntimeError(f"ext_codegen is already registered for {device!r}; call unregister first")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("ext_codegen.register('cuda') needs a CUDA GPU, and none is available")
    if device == DEVICE:
        from .. import device as extdev

        if torch.cuda.is_available() and not hasattr(torch, "extdev"):
            import warnings

            warnings.warn(
                "loading the extdev device on a machine with a CUDA GPU: PyTorch makes a PrivateUse1 "
                "backend the process's accelerator ahead of CUDA, and backward passes on CUDA tensors "
                "then fail in this process (see ext_codegen.autoload)", RuntimeWarning, stacklevel=2)
        extdev.load()  # the eager device first (a no-op once autoloaded)
        triton_versions.choose_triton_default_driver()  # before the extdev driver may say it is active
    _initialise_inductor_registries()
    saved = _Saved(
        codegen=codegen_common.device_codegens.get(device, _MISSING),
        backend_pass=codegen_common.custom_backend_passes.get(device, _MISSING),
        backend_config=codegen_common.custom_backend_codegen_configs.get(device, _MISSING),
        op_overrides=codegen_common.device_op_overrides_dict.get(device, _MISSING),
        interface=dyn_di.device_interfaces.get(device, _MISSING),
        backend_option=getattr(inductor_config, f"{device}_backend", _MISSING),
        # the value from before any host-memory device was registered, whatever the order
        compile_threads=next((s.compile_threads for d, s in _registered.items() if d in _OVERRIDES),
                             inductor_config.compile_threads),
    )
    codegen_common.register_backend_for_device(
        device,
        ExtensionScheduling,
        ExtensionWrapperCodegen,
        device_custom_pass=CacheKeyPass(device),
    )
    if device in _OVERRIDES:
        overrides, interface = _OVERRIDES[device]
        codegen_common.register_device_op_overrides(device, overrides())
        dyn_di.register_interface_for_device(device, interface)
        inductor_config.compile_threads = 1
    if saved.backend_option is not _MISSING:
        # a device with no option of its own (extdev) reads cuda_backend, "triton" by default
        setattr(inductor_config, f"{device}_backend", "triton")
    if device == DEVICE:
        hardcoded.apply(device)
    _registered[device] = saved
    torch._dynamo.reset()


def unregister(device: str = "cpu") -> None:
    """Put back exactly what :func:`~ext_codegen.register` replaced for ``device``."""
    saved = _registered.get(device)
    if saved is None:
        raise RuntimeError(f"ext_codegen is not registered for {device!r}: nothing to unregister")
    for table, value in (
        (codegen_common.device_codegens, saved.codegen),
        (codegen_common.custom_backend_passes, saved.backend_pass),
        (codegen_common.custom_backend_codegen_configs, saved.backend_config),
        (codegen_common.device_op_overrides_dict, saved.op_overrides),
        (dyn_di.device_interfaces, saved.interface),
    ):
        if value is _MISSING:
            table.pop(device, None)
        else:
            table[device] = value
    if saved.backend_option is not _MISSING:
        setattr(inductor_config, f"{device}_backend", saved.backend_option)
    # a host-memory device still registered keeps compiling in-process
    others = [d for d in _registered if d != device and d in _OVERRIDES]
    inductor_config.compile_threads = 1 if others else saved.compile_threads
    if hardcoded.applied(device):
        hardcoded.revert(device)
    if device in _OVERRIDES:
        _reset_triton_driver()
    del _registered[device]
    torch._dynamo.reset()


def _reset_triton_driver() -> None:
    """Give Triton back its default driver if Inductor left ours active."""
    from triton.runtime.driver import driver

    from ..triton_backend.driver import InterpreterDriver

    if isinstance(driver.active, InterpreterDriver) and type(driver.active) is not type(driver.default):
        driver.reset_active()


def is_registered(device: str = "cpu") -> bool:
    """Whether :func:`~ext_codegen.register` is in effect for ``device``."""
    return device in _registered


@contextlib.contextmanager
def registered(device: str = "cpu"):
    """``register(device)`` for the duration of a ``with`` block."""
    register(device)
    try:
        yield
    finally:
        unregister(device)


def _register_pending() -> None:
    for device in pending.take():
        if not is_registered(device):
            register(device)


# Last: an autoload that ran while this package was half-imported registers now.
_register_pending()
