"""``CPUDeviceOpOverrides`` and ``ExtdevDeviceOpOverrides``: the device snippets Inductor splices into the wrapper.

The wrapper module needs a handful of device-specific lines: how to get the
raw stream a kernel launches on, how to select a device, how to synchronise,
and a context manager that guards a device index.  For the interpreter
device there is one device, no stream and nothing to wait for, so every
snippet is a valid no-op; each method's docstring says what a real device
would emit instead.  The ``extdev`` device (:mod:`ext_codegen.device`) has two
devices and a device module, and its snippets call that module.  On cuda,
``register("cuda")`` keeps CUDA's own overrides.
"""

from __future__ import annotations

from torch._inductor.codegen.common import DeviceOpOverrides


class CPUDeviceOpOverrides(DeviceOpOverrides):
    """No-op device snippets for a device that is the host."""

    def import_get_raw_stream_as(self, name: str) -> str:
        """Import ``name(device_index)``; CUDA imports ``_cuda_getCurrentRawStream`` here.

        The function returns stream 0 and makes the plugin's driver Triton's
        active one, so that the kernel launched next binds to it; ``activate()``
        does the same once, when the module is loaded, before its kernels are.
        """
        # One line: Inductor splices this snippet at several indentation levels.
        return f"from ext_codegen.triton_backend.driver import activate, get_raw_stream as {name}; activate()"

    def set_device(self, device_idx: int) -> str:
        """A statement selecting the device; CUDA emits ``torch.cuda.set_device(i)``."""
        return "pass"

    def synchronize(self) -> str:
        """A statement waiting for the device; CUDA emits ``torch.cuda.synchronize()``."""
        return "pass"

    def device_guard(self, device_idx: int) -> str:
        """An expression for a ``with`` block; CUDA emits ``torch.cuda._DeviceGuard(i)``."""
        return "torch._ops.contextlib.nullcontext()"


class ExtdevDeviceOpOverrides(DeviceOpOverrides):
    """The snippets of the ``extdev`` device: its module ``torch.extdev``, two devices, one stream each.

    These are the lines a vendor writes for a real accelerator: each names the
    device module's own call, as CUDA's overrides name ``torch.cuda``'s.
    """

    def import_get_raw_stream_as(self, name: str) -> str:
        """Import ``name(device_index)``: the device's current stream, after activating its Triton driver."""
        return f"from ext_codegen.triton_backend.extdev_target.driver import activate, get_raw_stream as {name}; activate()"

    def set_device(self, device_idx: int) -> str:
        """Select device ``device_idx``, as ``torch.cuda.set_device`` does."""
        return f"torch.extdev.set_device({device_idx})"

    def synchronize(self) -> str:
        """Wait for the current device."""
        return "torch.extdev.synchronize()"

    def device_guard(self, device_idx: int) -> str:
        """Make ``device_idx`` current for a ``with`` block and restore the previous one after."""
        return f"torch.extdev.device({device_idx})"
