"""The names every part of the package shares: its version, its device and the devices its plugin serves.

Each name is defined here once, and every part may import it: the device
(while ``import torch`` is still running), the Triton plugin (while ``import
triton`` is), the extension points and the tools.

What it may import: nothing, of the package or outside it.
"""

#: The package's version: ``ext_codegen.__version__``, the distribution's
#: (``pyproject.toml`` reads it here) and part of the key of Inductor's caches
#: (:class:`ext_codegen.inductor.registration.CacheKeyPass`).
VERSION = "0.1.0"

#: The package's own PrivateUse1 device (:mod:`ext_codegen.device`), and the
#: Triton target and backend that compile for it
#: (:mod:`ext_codegen.triton_backend.extdev_target`).
DEVICE = "extdev"

#: The Triton target of the plugin's first backend, :mod:`ext_codegen.triton_backend`:
#: the name PyTorch looks for when it compiles Triton for ``cpu`` tensors.
HOST = "cpu"

#: The device types whose memory is host memory: the plugin runs their kernels.
HOST_DEVICES = (HOST, DEVICE)
