"""The ``extdev`` device: a PrivateUse1 backend whose memory is host memory.

This part of ext_codegen is the *device* and nothing else: real storage from a
C++ allocator, eager ops (a few in C++, every other one through ATen's CPU
fallback), the ``torch.extdev`` device module, and PyTorch's device autoload.
It gives Inductor a device that is not ``cpu`` to compile for on any machine
(pytorch#181093, #189138, #189137).

What it may import: ``torch``, :mod:`ext_codegen.names` and its own files;
never Inductor or Dynamo, never the rest of ext_codegen, so that ``import
torch`` can load it through the ``torch.backends`` entry point while torch
itself is still being imported.

>>> import torch, ext_codegen.device
>>> ext_codegen.device.load()
>>> torch.ones(2, device="extdev").device
device(type='extdev', index=0)
"""

from __future__ import annotations

from ..names import DEVICE
_loaded = False


def load() -> None:
    """Make ``extdev`` a torch device in this process; a second call does nothing.

    Builds (first time, ~25 s) or loads the C++ half, adds the fused RNN
    cells (:mod:`.rnn`), renames PrivateUse1 to
    ``extdev``, registers ``torch.extdev`` and adds ``Tensor.extdev()``,
    ``Tensor.is_extdev`` and friends.  Raises if PrivateUse1 already belongs to
    another backend, or :class:`~ext_codegen.device.build.BuildError` if the C++
    cannot be built.
    """
    global _loaded
    if _loaded:
        return
    import torch

    taken = torch._C._get_privateuse1_backend_name()
    if taken not in ("privateuseone", DEVICE):
        raise RuntimeError(
            f"cannot load the {DEVICE} device: PrivateUse1 is already the {taken!r} backend "
            f"(one PrivateUse1 backend per process)")
    from . import build, module, rnn

    build.ensure_loaded()
    rnn.register()
    if taken != DEVICE:
        torch.utils.rename_privateuse1_backend(DEVICE)
    if not hasattr(torch, DEVICE):
        torch._register_device_module(DEVICE, module)
        torch.utils.generate_methods_for_privateuse1_backend(for_storage=True)
    _loaded = True


def load_or_warn() -> bool:
    """Load the device for PyTorch's autoload; ``False``, with a warning, if it cannot be built.

    :func:`ext_codegen.autoload.entry_point` calls it.  A failed build warns
    instead of failing ``import torch`` for every user of this environment;
    any other error propagates, and torch adds that
    ``TORCH_DEVICE_BACKEND_AUTOLOAD=0`` turns autoloading off.
    """
    import warnings

    from .build import BuildError

    try:
        load()
    except BuildError as err:
        warnings.warn(
            f"the {DEVICE} device is unavailable: {err}\n"
            f"(loaded by `import torch` through the ext_codegen package's 'torch.backends' entry point; "
            f"set TORCH_DEVICE_BACKEND_AUTOLOAD=0 to turn device autoloading off)",
            RuntimeWarning, stacklevel=2)
        return False
    return True


# Last, so that ``load`` and ``load_or_warn`` exist when ``import torch`` calls back into this package:
# importing any of its modules first imports torch (and with it the autoload) from here, before the
# module itself starts importing torch and could be found half-initialised by the autoload.
import torch  # noqa: E402,F401
