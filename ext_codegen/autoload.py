"""What ``import torch`` runs for this package: the ``extdev`` device and its compiler.

PyTorch loads every entry point of the ``torch.backends`` group at the end of
``import torch`` (unless ``TORCH_DEVICE_BACKEND_AUTOLOAD=0``);
``pyproject.toml`` declares :func:`extdev` there.  It loads the eager device
(:func:`ext_codegen.extdev.load`) and registers the four extension points for
it (``ext_codegen.register("extdev")``), so that any Python process of the
environment, Inductor's autotune subprocess included, knows the device and
compiles for it.  The cost is Dynamo's and Inductor's imports, paid at
``import torch`` instead of at the first ``torch.compile``.

With autoloading off, the same happens on an explicit
``ext_codegen.register("extdev")``.  A device that cannot be built warns
and leaves ``import torch`` working.

Not on a machine with a CUDA GPU: PyTorch makes a registered PrivateUse1
backend the process's accelerator *ahead of CUDA* (``at::getAccelerator`` in
``aten/src/ATen/DeviceAccelerator.cpp``: "whenever a PrivateUse1 device is
registered, use it first"), and autograd then finds no stream for CUDA
tensors ("opt_ready_stream && opt_parent_stream INTERNAL ASSERT FAILED").
Loading the device there would break every CUDA training loop of the
environment, so only an explicit ``register("extdev")`` loads it, and warns.

One order needs care: when a module of this package is the first to import
torch (``from ext_codegen.registration import ...`` before ``import torch``),
the autoload runs while that module is still half-imported, and importing
the registration then would fail.  The device is loaded at once and the
registration waits until :mod:`ext_codegen.registration` has finished
loading (it calls :func:`register_deferred` last).
"""

from __future__ import annotations

import sys

_deferred: list[str] = []


def extdev() -> None:
    """The ``torch.backends`` entry point: load ``extdev`` and register the compiler for it."""
    import torch

    if torch.cuda.is_available():
        return  # see the module docstring: PyTorch would put extdev ahead of CUDA
    from . import extdev as device

    if not device._autoload():
        return
    if _package_half_imported():
        _deferred.append("extdev")
        return
    from .registration import is_registered, register

    if not is_registered("extdev"):
        register("extdev")


def register_deferred() -> None:
    """Register what :func:`extdev` could not while this package was half-imported."""
    from .registration import is_registered, register

    while _deferred:
        device = _deferred.pop()
        if not is_registered(device):
            register(device)


def _package_half_imported() -> bool:
    # importlib marks a module's spec while the module's code runs
    return any(getattr(getattr(module, "__spec__", None), "_initializing", False)
               for name, module in list(sys.modules.items())
               if name.startswith(__package__ + ".") and name != __name__)
