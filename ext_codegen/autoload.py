"""What ``import torch`` runs for this package: the ``extdev`` device and its compiler.

PyTorch loads every entry point of the ``torch.backends`` group at the end of
``import torch`` (unless ``TORCH_DEVICE_BACKEND_AUTOLOAD=0``);
``pyproject.toml`` declares :func:`entry_point` there.  It loads the eager device
(:func:`ext_codegen.device.load`) and registers the four extension points for
it (``ext_codegen.register("extdev")``), so that any Python process of the
environment, Inductor's autotune subprocess included, knows the device and
compiles for it.

The eager device is loaded at once (0.15 s); the compiler's registration
needs Dynamo and Inductor, whose imports took 2.6 of the 4.2 s that
``import torch`` took with an eager registration (1.5 s without autoload).
So it waits until the process imports them: ``torch.compile`` (or anything
else) importing ``torch._dynamo`` or ``torch._inductor`` runs it as soon as
neither is half-imported any more, before Dynamo can trace a frame.  A
process that never compiles never pays for it.

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
torch (``from ext_codegen.inductor.registration import ...`` before ``import torch``),
the autoload runs while that module is still half-imported, and importing
the registration then would fail.  The device is loaded at once and the
registration waits until :mod:`ext_codegen.inductor.registration` has finished
loading (it registers what :mod:`ext_codegen.inductor.pending` holds, last).

What it may import: :mod:`ext_codegen.names`, :mod:`ext_codegen.device` and
:mod:`ext_codegen.inductor` (its :mod:`~ext_codegen.inductor.pending` at
once, the registration when it runs); nothing else of the package.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

from . import names
from .inductor import pending

#: The packages the registration imports; it runs once both are imported (or one is and the other is not half-imported).
COMPILER_PACKAGES = ("torch._dynamo", "torch._inductor")


def entry_point() -> None:
    """The ``torch.backends`` entry point: load ``extdev`` and register the compiler for it."""
    import torch

    if torch.cuda.is_available():
        return  # see the module docstring: PyTorch would put extdev ahead of CUDA
    from . import device

    if not device.load_or_warn():
        return
    if any(name in sys.modules for name in COMPILER_PACKAGES):
        _register_when_ready()
    else:
        sys.meta_path.insert(0, _AfterImport(COMPILER_PACKAGES, _register_when_ready))


def _register_when_ready(finished: str | None = None) -> None:
    """Register unless one of the compiler packages (other than ``finished``, just executed) is half-imported."""
    if any(_initializing(sys.modules.get(name)) for name in COMPILER_PACKAGES if name != finished):
        return  # the package still importing runs this again when it has finished
    if _package_half_imported():
        pending.request(names.DEVICE)  # registered by the registration module once it is imported
        return
    from .inductor.registration import is_registered, register

    if not is_registered(names.DEVICE):
        register(names.DEVICE)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``then(name)`` after each of ``names`` has been imported; finds and loads nothing itself.

    Python asks every finder on ``sys.meta_path`` for a module's spec; for
    one of ``names`` this one gets the spec from the standard path finder
    and wraps its loader's ``exec_module``, then leaves ``sys.meta_path``
    once all of them have been seen.
    """

    def __init__(self, names, then) -> None:
        self.names, self.then = set(names), then

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        self.names.discard(fullname)
        if not self.names:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module, then = spec.loader.exec_module, self.then

        def exec_then_call(module) -> None:
            exec_module(module)
            then(fullname)  # the module still counts as importing until this returns

        spec.loader.exec_module = exec_then_call
        return spec


def _initializing(module) -> bool:
    # importlib marks a module's spec while the module's code runs
    return getattr(getattr(module, "__spec__", None), "_initializing", False)


def _package_half_imported() -> bool:
    # importlib marks a module's spec while the module's code runs
    return any(_initializing(module) for name, module in list(sys.modules.items())
               if name.startswith(__package__ + ".") and name != __name__)
