"""ext_codegen: an out-of-tree PyTorch Inductor backend that generates Triton and runs it.

The package has three parts, and a device:

* **the extension points and their registration** (this folder's top level):
  ``wrapper.py``, ``scheduling.py``, ``device_op_overrides.py`` and
  ``device_interface.py`` are the four classes Inductor is given;
  ``registration.py`` puts them in Inductor's registries and takes them out
  again; ``compat.py`` holds every difference between torch and triton
  releases.  They may import torch, Inductor and ``compat``, never the tools.
* **the Triton plugin** (:mod:`ext_codegen.triton_backend`): the compiler,
  driver and launcher Triton is given, and the interpreter's gaps and fast
  paths the launcher depends on.  It never imports the extension points.
* **the tools** (:mod:`ext_codegen.tools`): the conformance sweep and its
  reports, and the code-reading helpers the docs use.  Built on the other
  two; nothing but ``__main__`` imports them.
* **the device** (:mod:`ext_codegen.extdev`): a PrivateUse1 device with host
  memory, for the chapter on bringing your own device.

The public names are imported on first use.  Triton imports this package's
``triton_backend`` plugin while *it* is being imported, which can happen in
the middle of ``import torch._inductor``; an eager import of Inductor here
would then be circular and leave Inductor believing Triton is missing.

>>> import ext_codegen
>>> sorted(ext_codegen.__all__)  # doctest: +NORMALIZE_WHITESPACE
['CPUDeviceOpOverrides', 'DeviceInterface', 'ExtdevDeviceInterface', 'ExtdevDeviceOpOverrides',
 'ExtensionScheduling', 'ExtensionWrapperCodegen', 'is_registered', 'register', 'registered', 'unregister']
"""

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "CPUDeviceOpOverrides": "device_op_overrides",
    "DeviceInterface": "device_interface",
    "ExtensionScheduling": "scheduling",
    "ExtensionWrapperCodegen": "wrapper",
    "ExtdevDeviceInterface": "device_interface",
    "ExtdevDeviceOpOverrides": "device_op_overrides",
    "is_registered": "registration",
    "register": "registration",
    "registered": "registration",
    "unregister": "registration",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ext_codegen' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
