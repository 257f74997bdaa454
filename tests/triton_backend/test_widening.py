"""Widened program instances (``widening.widen_x_block``) compute exactly what the launched grid does."""

from __future__ import annotations

import pytest
import torch

from ext_codegen.triton_backend import launch, widening

#: these tests are about the interpreter's own machinery: every kernel in them runs interpreted
pytestmark = pytest.mark.usefixtures("interpreted")


def _launches(monkeypatch):
    seen = []
    real = launch.launch

    def spy(jit_fn, grid, args, *rest, **options):
        new_grid, new_args = widening.widen_x_block(launch._prepare(jit_fn)[3], grid, args)
        seen.append((jit_fn.__name__, grid, args, new_grid, new_args))
        return real(jit_fn, grid, args, *rest, **options)

    monkeypatch.setattr(launch, "launch", spy)
    return seen


def _unwidened_and_widened(fn, *args):
    """Outputs with widening off (one program per launched grid index) and on."""
    compiled = torch.compile(fn)
    compiled(*args)
    limit = widening.ELEMENTS_PER_PROGRAM
    widening.ELEMENTS_PER_PROGRAM = 1
    try:
        narrow = compiled(*args)
    finally:
        widening.ELEMENTS_PER_PROGRAM = limit
    return narrow, compiled(*args)


def test_unmasked_range_is_widened_only_by_factors_of_the_grid(ext_cpu, gen, monkeypatch):
    """61,440 = 15 x 4,096 elements: Inductor leaves x unmasked, so a block may not run past the end.

    Regression: the grid of 120 blocks of 512 was once widened by 64 into 2
    blocks of 32,768, the second reading and writing 4,096 elements past the
    tensors (a crash, or silently wrong memory).
    """
    seen = _launches(monkeypatch)
    x = torch.randn(15 * 4096, generator=gen, dtype=torch.float64)
    narrow, wide = _unwidened_and_widened(lambda x: x * 2 + 1, x)
    assert torch.equal(narrow, wide)
    torch.testing.assert_close(wide, x * 2 + 1)
    for name, grid, args, new_grid, new_args in seen:
        if new_grid != grid:
            assert grid[0] % new_grid[0] == 0, (name, grid, new_grid)  # an exact division


def test_masked_range_rounds_the_grid_up(ext_cpu, gen, monkeypatch):
    seen = _launches(monkeypatch)
    x = torch.randn(15 * 4096 + 7, generator=gen, dtype=torch.float64)
    narrow, wide = _unwidened_and_widened(lambda x: x.sin() - x, x)
    assert torch.equal(narrow, wide)
    torch.testing.assert_close(wide, x.sin() - x)
    assert any(new_grid[0] == 1 for _, _, _, new_grid, _ in seen), seen


@pytest.mark.parametrize("shape", [(512, 384), (300, 77)])
def test_tiled_kernels_widen_y_too(ext_cpu, gen, monkeypatch, shape):
    """``x.t().contiguous()`` is a tiled kernel (YBLOCK x XBLOCK): both ranges widen."""
    seen = _launches(monkeypatch)
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    fn = lambda x: x.t().contiguous() * 2 + x.t()  # noqa: E731
    narrow, wide = _unwidened_and_widened(fn, x)
    assert torch.equal(narrow, wide)
    torch.testing.assert_close(wide, fn(x))
    tiled = [(g, a, ng, na) for name, g, a, ng, na in seen if "YBLOCK" in a]
    assert tiled, seen
    grid, args, new_grid, new_args = tiled[-1]
    assert new_grid[0] * new_grid[1] < grid[0] * grid[1]
    assert new_args["YBLOCK"] > args["YBLOCK"] or new_grid[1] == grid[1] == 1


def test_looped_reduction_keeps_its_reduction_block(ext_cpu, gen, monkeypatch):
    """Only x widens in a looped reduction: R0_BLOCK fixes the order of its additions."""
    seen = _launches(monkeypatch)
    x = torch.randn(3000, 99, generator=gen)
    narrow, wide = _unwidened_and_widened(lambda x: x.sum(0), x)
    assert torch.equal(narrow, wide)
    reds = [(a, na) for name, g, a, ng, na in seen if name.startswith("triton_red_")]
    assert reds, seen
    for args, new_args in reds:
        assert new_args["R0_BLOCK"] == args["R0_BLOCK"]
