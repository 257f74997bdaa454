"""Shared fixtures: the backend registered on cpu, fresh inputs, and the GPU marker."""

from __future__ import annotations

import pytest
import torch

import ext_codegen


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def ext_cpu():
    """The extension backend registered for cpu during one test, Dynamo reset around it."""
    with ext_codegen.registered("cpu"):
        yield


@pytest.fixture
def gen():
    """A seeded generator so each test draws fresh, reproducible inputs."""
    return torch.Generator().manual_seed(1234)
