"""Triton's ``debug`` option reaches the interpreter: ``tl.device_assert`` runs when a kernel is compiled with it.

Inductor compiles with ``debug=True`` unless ``config.assert_indirect_indexing``
is off, and with ``config.debug_index_asserts`` emits index checks as
``tl.device_assert``.  Stock Inductor's C++ path raises on the out-of-range
index below; so must the interpreter.
"""

from __future__ import annotations

import pytest
import torch
from torch._inductor import config

from ext_codegen.triton_backend import launch

#: these tests are about the interpreter's own machinery: every kernel in them runs interpreted
pytestmark = pytest.mark.usefixtures("interpreted")


def _masked_index(a, mask, idx):
    return torch.ops.aten._unsafe_masked_index(a, mask, [idx], 1)


def _spy_debug(monkeypatch):
    seen = []
    real = launch.launch

    def spy(jit_fn, grid, args, signature=None, debug=False, sanitize_overflow=False):
        seen.append(debug)
        assert not sanitize_overflow  # Inductor compiles without Triton's overflow asserts
        return real(jit_fn, grid, args, signature, debug=debug, sanitize_overflow=sanitize_overflow)

    monkeypatch.setattr(launch, "launch", spy)
    return seen


def test_index_asserts_fire_with_debug(ext_cpu, gen, monkeypatch):
    seen = _spy_debug(monkeypatch)
    a = torch.randn(4, generator=gen)
    with config.patch(debug_index_asserts=True):
        with pytest.raises(Exception, match="index out of bounds"):
            torch.compile(_masked_index)(a, torch.tensor([True]), torch.tensor([-5]))
    assert seen and all(seen)


def test_index_asserts_pass_for_valid_indices(ext_cpu, gen, monkeypatch):
    seen = _spy_debug(monkeypatch)
    a = torch.randn(4, generator=gen, dtype=torch.float64)
    mask, idx = torch.tensor([True, False, True]), torch.tensor([3, -9, 0])
    with config.patch(debug_index_asserts=True):
        out = torch.compile(_masked_index)(a, mask, idx)
    torch.testing.assert_close(out, _masked_index(a, mask, idx))
    assert seen and all(seen)


def test_without_debug_no_assert_runs(ext_cpu, gen, monkeypatch):
    """Off, kernels launch with ``debug=False``: the assert is not evaluated, the read is unchecked, as on a GPU."""
    seen = _spy_debug(monkeypatch)
    a = torch.randn(4, generator=gen, dtype=torch.float64)
    mask, idx = torch.tensor([True, False, True]), torch.tensor([3, -9, 0])
    with config.patch(debug_index_asserts=True, assert_indirect_indexing=False):
        out = torch.compile(_masked_index)(a, mask, idx)
    torch.testing.assert_close(out, _masked_index(a, mask, idx))
    assert seen and not any(seen)
