"""The plugin's second Triton backend: target ``extdev``, for the package's PrivateUse1 device.

``pyproject.toml`` declares it in the ``triton.backends`` group under the name
``extdev``.  Its compiler and driver are the host backend's, with the target
and the torch device renamed: an ``extdev`` tensor holds host memory, so its
kernels run in the same interpreter, with the same gaps closed and the same
fast paths.

Why a backend of its own and not the ``cpu`` one: Inductor compiles the
kernels of any device other than cpu after ``set_driver_to_gpu()``, which
makes the first active Triton backend *not named* ``cpu`` the active one,
and then asks for a ``GPUTarget`` named after the device type.  So the
device needs a backend with another name whose compiler accepts target
``extdev`` (:mod:`.compiler`) and whose driver is active when Inductor looks
(:mod:`.driver`).

What it may import: :mod:`ext_codegen.compat`, :mod:`ext_codegen.names`,
the host backend's :mod:`ext_codegen.triton_backend.compiler` and
:mod:`ext_codegen.triton_backend.driver`, and its own modules; nothing else
of the plugin.
"""
