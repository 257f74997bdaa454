"""ext_codegen: an out-of-tree PyTorch Inductor backend that generates Triton and runs it.

The package has five parts, a folder each, and a few modules at the top:

* **the extension points and their registration** (:mod:`ext_codegen.inductor`):
  the four classes Inductor is given, the registration that puts them in
  Inductor's registries and takes them out again, and the answers to what
  Inductor hard-codes for known devices.
* **the Triton plugin** (:mod:`ext_codegen.triton_backend`): the compiler,
  driver and launcher Triton is given, and the interpreter's gaps and fast
  paths the launcher depends on.
* **the device** (:mod:`ext_codegen.device`): a PrivateUse1 device with host
  memory, for the chapter on bringing your own device.
* **the tools** (:mod:`ext_codegen.tools`): the conformance sweep, the
  debugging tools and the code-reading helpers the docs use.
* **the compatibility layer** (:mod:`ext_codegen.compat`): every difference
  between the supported torch and triton releases.
* at the top: :mod:`ext_codegen.names` (the names all parts share),
  :mod:`ext_codegen.autoload` (what ``import torch`` runs) and ``__main__``
  (``python -m ext_codegen``).

Each part's ``__init__`` (and each module at the top) says what it may
import, in a paragraph of its own that begins with those words.
``tests/docs/test_layout.py`` checks every module against it, and checks that
no module imports another by a computed name, that there is no import
circle, and that what one module takes from another is public there.

What it may import: :mod:`ext_codegen.names` (for ``__version__``) and
:mod:`ext_codegen.inductor` (the public names, on first use); nothing else of
the package.

The public names are imported on first use.  Triton imports this package's
``triton_backend`` plugin while *it* is being imported, which can happen in
the middle of ``import torch._inductor``; an eager import of Inductor here
would then be circular and leave Inductor believing Triton is missing.
``DeviceInterface`` is the name PyTorch's test fixture gives the cpu device
interface; here it is :class:`~ext_codegen.inductor.device_interface.CPUDeviceInterface`.

>>> import ext_codegen
>>> sorted(ext_codegen.__all__)  # doctest: +NORMALIZE_WHITESPACE
['CPUDeviceInterface', 'CPUDeviceOpOverrides', 'DeviceInterface', 'ExtdevDeviceInterface',
 'ExtdevDeviceOpOverrides', 'ExtensionScheduling', 'ExtensionWrapperCodegen', 'is_registered',
 'register', 'registered', 'unregister']
>>> ext_codegen.DeviceInterface is ext_codegen.CPUDeviceInterface
True
"""

from .names import VERSION as __version__

_PUBLIC = {
    "device_interface": ("CPUDeviceInterface", "ExtdevDeviceInterface"),
    "device_op_overrides": ("CPUDeviceOpOverrides", "ExtdevDeviceOpOverrides"),
    "registration": ("is_registered", "register", "registered", "unregister"),
    "scheduling": ("ExtensionScheduling",),
    "wrapper": ("ExtensionWrapperCodegen",),
}
#: The fixture's names for classes that have another name here.
_FIXTURE_NAMES = {"DeviceInterface": "CPUDeviceInterface"}

__all__ = sorted([name for names in _PUBLIC.values() for name in names] + list(_FIXTURE_NAMES))


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'ext_codegen' has no attribute {name!r}")
    from .inductor import device_interface, device_op_overrides, registration, scheduling, wrapper

    modules = {"device_interface": device_interface, "device_op_overrides": device_op_overrides,
               "registration": registration, "scheduling": scheduling, "wrapper": wrapper}
    for module, names in _PUBLIC.items():
        globals().update({n: getattr(modules[module], n) for n in names})
    globals().update({n: globals()[ours] for n, ours in _FIXTURE_NAMES.items()})
    return globals()[name]


def __dir__():
    return sorted(list(globals()) + __all__)
