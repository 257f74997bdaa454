"""The names every part of the package shares: the package's device and the devices its plugin serves.

Each name is defined here once.  This module imports nothing, so every part
may import it: the device (while ``import torch`` is still running), the
Triton plugin (while ``import triton`` is), the extension points and the tools.
"""

#: The package's own PrivateUse1 device (:mod:`ext_codegen.device`), and the
#: Triton target and backend that compile for it
#: (:mod:`ext_codegen.triton_backend.extdev_target`).
DEVICE = "extdev"

#: The Triton target of the plugin's first backend, :mod:`ext_codegen.triton_backend`:
#: the name PyTorch looks for when it compiles Triton for ``cpu`` tensors.
HOST = "cpu"

#: The device types whose memory is host memory: the plugin runs their kernels.
HOST_DEVICES = (HOST, DEVICE)
