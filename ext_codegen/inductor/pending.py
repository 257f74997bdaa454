"""Registrations asked for while the package was still being imported, run when :mod:`.registration` is.

PyTorch's device autoload (:mod:`ext_codegen.autoload`) can run in the
middle of importing one of this package's modules: when that module is the
first of the process to import torch.  Registering then would import
:mod:`.registration` while the package is half-imported, so the autoload
leaves the device here instead, and :mod:`.registration` registers what it
finds here as the last thing it does when it is imported.

This module imports nothing, so the autoload can reach it at any moment.
"""

from __future__ import annotations

_devices: list[str] = []


def request(device: str) -> None:
    """Ask for ``register(device)`` once :mod:`.registration` has been imported."""
    _devices.append(device)


def take() -> list[str]:
    """The devices asked for so far, each once; the list is emptied."""
    devices, _devices[:] = list(_devices), []
    return devices
