"""Shared fixtures and the session's order: the backend registered on cpu, fresh inputs, GPU tests first.

Collecting the tests imports every test module; that must load no device and
register nothing (fixtures do, when their tests run).  On a GPU host a loaded
``extdev`` becomes the accelerator ahead of CUDA and CUDA's backward passes
fail for every later test (see :mod:`ext_codegen.autoload`): there the GPU
tests run first, and the tests of ``extdev`` in this process are skipped
(``tests.helpers.skip_on_gpu_host``).
"""

from __future__ import annotations

import pytest
import torch

import ext_codegen
from ext_codegen.triton_backend.native import route
from tests.helpers import seeded

DEVICES = ("cpu", "cuda", "extdev")


def _state():
    """PrivateUse1's name ("extdev" once the device is loaded) and the devices the backend is registered for."""
    return torch._C._get_privateuse1_backend_name(), [d for d in DEVICES if ext_codegen.is_registered(d)]


#: Before any test module is imported: what ``import torch`` (and its autoload) left.
_BEFORE_COLLECTION = _state()


def pytest_collection_modifyitems(config, items):
    """Without a GPU, skip the tests marked ``gpu``; with one, run them before every other item.

    By the mark, not by keyword: an item's keywords hold its folders' names,
    and ``tests/gpu/`` also holds tests that need no GPU.
    """
    if torch.cuda.is_available():
        items.sort(key=lambda item: item.get_closest_marker("gpu") is None)  # stable: each group keeps its order
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


def pytest_collection_finish(session):
    """Stop before any test runs if importing a test module loaded a device or registered the backend."""
    after = _state()
    if after != _BEFORE_COLLECTION:
        raise pytest.UsageError(
            f"collecting the tests changed (PrivateUse1's name, registered devices) from {_BEFORE_COLLECTION} "
            f"to {after}: load and register in fixtures, not when a test module is imported")


@pytest.fixture
def ext_cpu():
    """The extension backend registered for cpu during one test, Dynamo reset around it."""
    with ext_codegen.registered("cpu"):
        yield


@pytest.fixture
def interpreted():
    """Kernels run in Triton's interpreter during the test (``EXT_CODEGEN_NATIVE=0``), not natively."""
    with route.interpreted():
        yield


@pytest.fixture
def gen():
    """A cpu generator seeded with ``tests.helpers.SEED``, new for each test: fresh, reproducible inputs."""
    return seeded()
