"""Scans and sorts over whole blocks (``gaps.scans``, ``gaps.sorting``): Triton's results, far faster.

Each case compiles once and runs twice, with the block paths off (Triton's
own element-by-element scan, Inductor's bitonic network) and on.  Selecting
scans (cummax, cummin) and accumulations (cumsum, cumprod) must agree bit for
bit; ``logcumsumexp``, whose additions round in a different order, within
float32 rounding; every output is also compared with eager in float64.
Inputs carry ties, NaNs and signed zeros where an op's semantics depend on them.
"""

from __future__ import annotations

import pytest
import torch
import triton
import triton.language as tl

from tests.helpers import assert_identical, assert_same, on_interpreter
from ext_codegen.triton_backend.gaps import scans, sorting

#: these tests are about the interpreter's own machinery: every kernel in them runs interpreted
pytestmark = pytest.mark.usefixtures("interpreted")


@pytest.fixture
def paths(ext_cpu):
    yield
    scans.ENABLED = sorting.ENABLED = True


def _tricky(gen, rows=8, cols=64, dtype=torch.float32):
    x = torch.randn(rows, cols, generator=gen).mul(4).round().div(4)  # many ties
    x[1, 5] = float("nan")
    x[2, ::7] = float("nan")
    x[3, 3] = -0.0
    x[3, 9] = 0.0
    return x.to(dtype)


def _off_and_on(fn, *args):
    compiled = torch.compile(fn)
    scans.ENABLED = sorting.ENABLED = False
    try:
        off = compiled(*args)
    finally:
        scans.ENABLED = sorting.ENABLED = True
    before = dict(scans.stats)
    on = compiled(*args)
    taken = {k: v - before[k] for k, v in scans.stats.items() if v != before[k]}
    return off, on, taken


def _eager64(fn, *args):
    return fn(*(a.double() if a.is_floating_point() else a for a in args))


@pytest.mark.parametrize(
    "name, fn, kind",
    [
        ("cumsum", lambda x: x.cumsum(1), "cumsum"),
        ("cumsum_dim0", lambda x: x.cumsum(0), "cumsum"),
        ("cumprod", lambda x: (x / 4 + 1).cumprod(1), "cumprod"),
        ("cummax", lambda x: x.cummax(1), "tree"),
        ("cummin", lambda x: x.cummin(1), "tree"),
        ("flip_cumsum", lambda x: x.flip(1).cumsum(1).flip(1), "cumsum"),
    ],
)
def test_exact_scans_match_triton_bit_for_bit(paths, gen, name, fn, kind):
    x = _tricky(gen)
    if name.startswith("cumsum") or name == "flip_cumsum" or name == "cumprod":
        x = torch.nan_to_num(x, nan=0.5)
    off, on, taken = _off_and_on(fn, x)
    assert taken.get(kind, 0) >= 1 and "triton" not in taken, taken
    assert_identical(off, on)
    ref = _eager64(fn, x)
    assert_same(on, ref if not isinstance(ref, tuple) else tuple(ref), atol=1e-5, rtol=1e-5)


def test_integer_cummax_and_cumsum(paths, gen):
    x = torch.randint(-5, 5, (8, 64), generator=gen)
    off, on, taken = _off_and_on(lambda x: (x.cummax(1), x.cumsum(1), (x > 0).cumsum(1)), x)
    assert taken.get("tree", 0) >= 1 and taken.get("cumsum", 0) >= 1 and "triton" not in taken
    assert_identical(off, on)
    assert_same(on, (x.cummax(1), x.cumsum(1), (x > 0).cumsum(1)), atol=0, rtol=0)


def test_logcumsumexp_within_rounding_of_triton_and_eager(paths, gen):
    x = _tricky(gen)
    x[4, :10] = float("-inf")
    x[5, 20] = float("inf")
    off, on, taken = _off_and_on(lambda x: x.logcumsumexp(1), x)
    assert set(taken) <= {"tree", "translated"} and taken["tree"] >= 1, taken
    torch.testing.assert_close(on, off, equal_nan=True)
    torch.testing.assert_close(on.double(), x.double().logcumsumexp(1), equal_nan=True, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("stable", [False, True])
def test_sort_matches_the_bitonic_network_and_eager(paths, gen, descending, stable):
    x = _tricky(gen)

    def fn(x):
        return torch.sort(x, dim=1, descending=descending, stable=stable)

    off, on, _ = _off_and_on(fn, x)
    torch.testing.assert_close(on.values, off.values, equal_nan=True, atol=0, rtol=0)
    ref = torch.sort(x, dim=1, descending=descending, stable=True)
    assert_identical(on.values, ref.values)
    assert torch.equal(on.indices, ref.indices)  # ties in index order, as eager's sort gives them
    if stable:
        assert torch.equal(off.indices, on.indices)


def test_sort_of_a_ragged_row_keeps_padding_out(paths, gen):
    x = torch.randn(6, 37, generator=gen)  # 37 lanes of a 64-lane block: 27 of padding
    off, on, _ = _off_and_on(lambda x: x.sort(1, descending=True), x)
    ref = x.sort(1, descending=True)
    assert torch.equal(on.values, ref.values) and torch.equal(on.indices, ref.indices)
    assert torch.equal(off.values, on.values)


@triton.jit
def _halving_combine(a, b):
    return a * 0.5 + b


@triton.jit
def _scan_kernel(x_ptr, y_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    tl.store(y_ptr + offs, tl.associative_scan(tl.load(x_ptr + offs), 0, _halving_combine))


def test_an_unknown_combine_function_takes_tritons_path(paths):
    """A user's Triton kernel scanning with its own combine function: classified ``None``, still right."""
    assert scans.classify(_halving_combine) is None
    x = torch.arange(8, dtype=torch.float32)
    y = torch.empty_like(x)
    before = scans.stats["triton"]
    with on_interpreter():
        _scan_kernel[(1,)](x, y, N=8)
    assert scans.stats["triton"] == before + 1
    expected, acc = [], None
    for v in x.tolist():
        acc = v if acc is None else acc * 0.5 + v
        expected.append(acc)
    assert y.tolist() == expected


@pytest.mark.parametrize("name", ["cummax", "cummin", "cummax_int", "logcumsumexp"])
def test_numpy_translation_of_the_combine_function_is_bit_for_bit(paths, gen, name):
    """The doubling rounds with the combine function translated to numpy, or called through Triton: same bits."""
    x = _tricky(gen)
    x[4, :10] = float("-inf")
    fns = {"cummax": lambda x: x.cummax(1), "cummin": lambda x: x.cummin(0),
           "cummax_int": lambda x: (x * 4).long().cummax(1), "logcumsumexp": lambda x: x.logcumsumexp(1)}
    compiled = torch.compile(fns[name])
    scans.TRANSLATE = False
    try:
        called = compiled(x)
    finally:
        scans.TRANSLATE = True
    before = dict(scans.stats)
    translated = compiled(x)
    assert_identical(called, translated)
    assert scans.stats["translated"] > before["translated"]
