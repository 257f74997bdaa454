"""``torch.extdev``: the device module PyTorch looks up by the backend's name.

``torch._register_device_module("extdev", this)`` makes it ``torch.extdev``, and
PyTorch then calls it where it would call ``torch.cuda``: ``_lazy_init`` before
the first extdev tensor is made, ``manual_seed_all`` and ``_is_in_bad_fork``
from ``torch.manual_seed``, ``get_rng_state``/``set_rng_state`` from
``torch.random.fork_rng``, ``current_device``/``device_count`` from
``torch.accelerator`` and ``torch.get_device_module``.  Inductor's
benchmarking and device interfaces use ``Stream``, ``Event`` and
``synchronize``.

Everything runs synchronously on the host, so there is one stream per device,
always idle, and events hold the host time they were recorded at (the C++
device guard implements both; ``Stream`` and ``Event`` make PyTorch's
generic ``torch.Stream``/``torch.Event`` on an extdev device).  Random extdev ops run
their CPU kernels and draw from the CPU generator, so the RNG entry points
below are that generator's: seeding extdev seeds the CPU stream too.

The device's C++ half must be loaded first (``ext_codegen.device.load()``).
"""

from __future__ import annotations

import contextlib

import torch

from ..names import DEVICE


def index_of(device=None) -> int:
    """The device index of an int, ``"extdev:1"``, ``torch.device``, or ``None`` (current)."""
    if isinstance(device, str):
        device = torch.device(device)
    if isinstance(device, torch.device):
        if device.type != DEVICE:
            raise ValueError(f"expected an {DEVICE} device, got {device}")
        device = device.index
    if device is None:
        return current_device()
    if not isinstance(device, int):
        raise TypeError(f"expected an {DEVICE} device, a device index or None, got {device!r}")
    return device


def _device(device=None) -> torch.device:
    return torch.device(DEVICE, index_of(device))


# --- devices ---------------------------------------------------------------------------------

def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True  # loading the C++ half is the whole initialisation


def _lazy_init() -> None:
    pass


init = _lazy_init


def _is_in_bad_fork() -> bool:
    return False  # no driver state that a fork could break


def device_count() -> int:
    return torch.ops.extdev.device_count()


def current_device() -> int:
    return torch.ops.extdev.current_device()


def set_device(device) -> None:
    """Select the current device; the C++ guard refuses an index that is not a device."""
    index = index_of(device)
    if index >= 0:
        torch.ops.extdev.set_device(index)


class device:
    """Context manager that makes ``device`` current, as ``torch.cuda.device`` does.

    ``None`` or a negative index leaves the current device alone.
    """

    def __init__(self, device):
        self.index = -1 if device is None else index_of(device)

    def __enter__(self):
        self.previous = current_device()
        set_device(self.index)

    def __exit__(self, *exc):
        set_device(self.previous)
        return False


def get_device_name(device=None) -> str:
    return f"{_device(device)} (host memory)"


def synchronize(device=None) -> None:
    """Work on extdev has finished when its op returns; this only checks the device."""
    _check(index_of(device))


def _check(index: int) -> None:
    if not 0 <= index < device_count():
        raise RuntimeError(f"{DEVICE}:{index} is not a device: there are {device_count()} {DEVICE} devices")


# --- streams and events ----------------------------------------------------------------------

class Stream:
    """``Stream(device=None)``: the stream of an extdev device, as a generic ``torch.Stream``.

    Each device has one stream, always idle (the C++ guard says so), so
    ``query()`` is True and ``synchronize``/``wait_stream``/``wait_event`` return
    at once.  ``__new__`` returns PyTorch's own class because PyTorch's C++
    accepts exactly ``torch.Stream``/``torch.Event``, not subclasses.
    """

    def __new__(cls, device=None, priority: int = 0) -> torch.Stream:
        return torch.Stream(device=_device(device), priority=priority)


class Event:
    """``Event(enable_timing=False)``: a ``torch.Event`` on the current extdev device.

    An event holds the host time it was recorded at, so ``elapsed_time`` is
    host time in milliseconds: everything before ``record()`` has finished.
    """

    def __new__(cls, enable_timing: bool = False, blocking: bool = False,
                interprocess: bool = False) -> torch.Event:
        return torch.Event(device=_device(), enable_timing=enable_timing,
                           blocking=blocking, interprocess=interprocess)


def current_stream(device=None) -> Stream:
    return Stream(device)


default_stream = current_stream


def set_stream(stream) -> None:
    if stream is not None:
        _check(stream.device_index)


@contextlib.contextmanager
def stream(stream):
    """``with torch.extdev.stream(s):``: nothing to switch, as every device has one stream."""
    set_stream(stream)
    yield


# --- random numbers: the CPU generator, which extdev's random ops really use ------------------

def manual_seed(seed: int) -> None:
    torch.default_generator.manual_seed(int(seed))


manual_seed_all = manual_seed


def seed() -> None:
    torch.default_generator.seed()


seed_all = seed


def initial_seed() -> int:
    return torch.default_generator.initial_seed()


# Dynamo must not trace into these: PyTorch's freeze_rng_state (OpInfo's random ops) calls the
# accelerator's under no_dispatch, and a traced call would make a real tensor under fake mode.
# torch._disable_dynamo is what torch decorates its own such functions with; it imports Dynamo
# only when first called.
@torch._disable_dynamo
def get_rng_state(device=DEVICE) -> torch.Tensor:
    _check(index_of(device))
    return torch.get_rng_state()  # the public call, which Dynamo knows how to trace around


@torch._disable_dynamo
def set_rng_state(new_state: torch.Tensor, device=DEVICE) -> None:
    _check(index_of(device))
    torch.set_rng_state(new_state)


def get_rng_state_all() -> list[torch.Tensor]:
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states) -> None:
    set_rng_state(new_states[0])  # one generator behind every device


# --- memory ---------------------------------------------------------------------------------

def memory_allocated(device=None) -> int:
    """Bytes held by live extdev storages on ``device``, counted by the C++ allocator."""
    return torch.ops.extdev.memory_allocated(index_of(device))


def empty_cache() -> None:
    pass  # no caching allocator: freed memory goes straight back to the host
