"""ext_codegen: an out-of-tree PyTorch Inductor backend that generates Triton and runs it.

>>> import ext_codegen
>>> sorted(ext_codegen.__all__)  # doctest: +NORMALIZE_WHITESPACE
['CPUDeviceOpOverrides', 'DeviceInterface', 'ExtensionScheduling', 'ExtensionWrapperCodegen',
 'is_registered', 'register', 'registered', 'unregister']
"""

__version__ = "0.1.0"

from .device_interface import DeviceInterface
from .device_op_overrides import CPUDeviceOpOverrides
from .registration import is_registered, register, registered, unregister
from .scheduling import ExtensionScheduling
from .wrapper import ExtensionWrapperCodegen

__all__ = [
    "CPUDeviceOpOverrides",
    "DeviceInterface",
    "ExtensionScheduling",
    "ExtensionWrapperCodegen",
    "is_registered",
    "register",
    "registered",
    "unregister",
]
