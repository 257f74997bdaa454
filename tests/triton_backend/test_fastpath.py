"""The interpreter's fast paths (``ext_codegen.triton_backend.fastpath``) change speed, never results.

Each check runs the same compiled function twice, with the fast paths off and
on, and requires identical bits; the Inductor cases are also compared with
eager in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.helpers import assert_identical, assert_same, on_interpreter
from ext_codegen.triton_backend import fastpath

#: these tests are about the interpreter's own machinery: every kernel in them runs interpreted
pytestmark = pytest.mark.usefixtures("interpreted")


@pytest.fixture
def fast(ext_cpu):
    """The backend registered; the fast paths on again after the test whatever happens."""
    yield fastpath.stats
    fastpath.ENABLED = True


def _counts():
    return dict(fastpath.stats)


def _delta(before):
    return {k: v - before[k] for k, v in fastpath.stats.items() if v != before[k]}


def off_and_on(fn, *args):
    """Run ``fn`` (a compiled function or a launcher) with the fast paths off, then on.

    Returns (output off, output on, load/store counts of the ``on`` run).
    """
    fastpath.ENABLED = False
    try:
        off = fn(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
    finally:
        fastpath.ENABLED = True
    before = _counts()
    on = fn(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
    return off, on, _delta(before)


def check_compiled(fn, *args, atol=1e-5, rtol=1e-4, views=True):
    """Off and on identical, close to eager float64, and (if ``views``) a numpy view was used."""
    torch._dynamo.reset()
    compiled = torch.compile(fn)
    compiled(*args)  # compile (and warm up) outside the comparison
    off, on, counts = off_and_on(compiled, *args)
    assert_identical(off, on)
    ref = fn(*(a.double() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args))
    if isinstance(ref, torch.Tensor) and ref.dtype == torch.float64 and on.dtype != torch.float64:
        ref = ref.to(on.dtype)
    assert_same(on, ref, atol=atol, rtol=rtol)
    if views:
        assert counts.get("load_view", 0) + counts.get("store_view", 0) > 0, counts
    assert "load_triton" not in counts and "store_triton" not in counts, counts
    return on, counts


# ---------------------------------------------------------------- Inductor kernels


@pytest.mark.parametrize("n", [1, 1000, 300_007])
def test_pointwise_ragged_tails(fast, gen, n):
    x = torch.randn(n, generator=gen)
    check_compiled(lambda x: (x.sin() * 2 + x.cos()).relu(), x)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16, torch.int32, torch.int64])
def test_dtypes(fast, gen, dtype):
    x = (torch.randn(777, 33, generator=gen) * 50).to(dtype)
    tol = {torch.bfloat16: 2e-2, torch.float16: 2e-3}.get(dtype, 1e-6)
    # NaN is fine on both sides (equal_nan); an int overflow of eager would differ, so stay small
    check_compiled(lambda x: (x * 3 - x.amax(1, keepdim=True), x.sum(0), x > 0), x, atol=tol * 100, rtol=tol)


def test_bool_loads_and_stores(fast, gen):
    x = torch.randn(1001, generator=gen) > 0
    y = torch.randn(1001, generator=gen) > 0.5
    check_compiled(lambda x, y: (x ^ y, x & ~y), x, y)


def test_row_reductions_ragged(fast, gen):
    x = torch.randn(999, 301, generator=gen)
    check_compiled(lambda x: (torch.softmax(x, -1), x.sum(-1) + x.amax(-1)), x)


def test_column_reduction_looped_and_ragged(fast, gen):
    x = torch.randn(5003, 77, generator=gen)
    check_compiled(lambda x: x.sum(0), x, atol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t.t(),  # transposed
        lambda t: t[::3, 1::2],  # sliced with steps
        lambda t: t[:, :1].expand(-1, 40),  # a stride-0 dimension
        lambda t: t.unsqueeze(0).expand(3, -1, -1).permute(2, 0, 1),  # 3-d, permuted
    ],
    ids=["transposed", "sliced", "expanded", "permuted"],
)
def test_non_contiguous_inputs(fast, gen, make):
    x = make(torch.randn(90, 61, generator=gen, dtype=torch.float64))
    check_compiled(lambda x: (x.exp() * 2, x.sum(-1), torch.softmax(x, 0)), x, atol=1e-10, rtol=1e-10)


def test_layer_norm_and_rms_norm(fast, gen):
    x, w, b = torch.randn(257, 1000, generator=gen), torch.randn(1000, generator=gen), torch.randn(1000, generator=gen)
    ln = lambda x, w, b: torch.nn.functional.layer_norm(x, x.shape[-1:], w, b)  # noqa: E731
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w  # noqa: E731
    check_compiled(ln, x, w, b, atol=1e-4)
    check_compiled(rms, x, w, atol=1e-4)


def test_indirect_indexing_gathers(fast, gen):
    """Embedding lookups and index_copy: indirect addresses go through the gather path."""
    table = torch.randn(500, 16, generator=gen)
    idx = torch.randint(0, 500, (3000,), generator=gen)
    _, counts = check_compiled(lambda t, i: torch.nn.functional.embedding(i, t) * 2, table, idx, views=False)
    assert counts.get("load_gather", 0) > 0, counts
    dst = torch.zeros(400, 8)
    src = torch.randn(100, 8, generator=gen)
    where = torch.randperm(400, generator=gen)[:100]
    _, counts = check_compiled(lambda d, i, s: d.index_copy(0, i, s) + 1, dst, where, src, views=False)
    assert counts.get("store_gather", 0) + counts.get("load_gather", 0) > 0, counts


# ---------------------------------------------------------------- hand-written kernels


def _launch(kernel, grid, *args, **meta):
    with on_interpreter():
        kernel[grid](*args, **meta)


def _kernels():
    import triton
    import triton.language as tl

    @triton.jit
    def reverse_copy(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = offs < n
        tl.store(out_ptr + (n - 1 - offs), tl.load(x_ptr + offs, m, other=-7.0) * 2, m)

    @triton.jit
    def scrambled(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = offs < n
        src = (offs * 7919) % n  # a permutation of 0..n-1 when gcd(7919, n) == 1
        tl.store(out_ptr + src, tl.load(x_ptr + src, m), m)

    @triton.jit
    def two_buffers(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        # addresses that span two arguments: only Triton's own load can take them
        p = tl.where(offs < n, x_ptr + offs, y_ptr + (offs - n))
        tl.store(out_ptr + offs, tl.load(p))

    @triton.jit
    def colliding_stores(x_ptr, out_ptr, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        v = tl.load(x_ptr + offs)
        tl.store(out_ptr + offs // 4, v)  # four lanes per address: the last lane wins
        tl.store(out_ptr + 64 + offs * 0, v)  # every lane to one address

    @triton.jit
    def wrapping_index(out_ptr, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        tl.store(out_ptr + offs, offs * 1_000_000_007 + 5)  # int32 arithmetic that wraps

    @triton.jit
    def tile_2d(x_ptr, out_ptr, rows, cols, sx, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
        r = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)[:, None]
        c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)[None, :]
        m = (r < rows) & (c < cols)
        v = tl.load(x_ptr + r * sx + c, m, other=0.0)
        tl.store(out_ptr + c * rows + r, v + 1, m)  # transposed store

    @triton.jit
    def transposed_tile_sum(x_ptr, out_ptr, R: tl.constexpr, C: tl.constexpr):
        r = tl.arange(0, R)[:, None]
        c = tl.arange(0, C)[None, :]
        v = tl.load(x_ptr + c * R + r)  # a tile whose memory runs down its columns
        w = v * v  # keeps its operand's memory order in numpy
        tl.store(out_ptr + tl.arange(0, R), tl.sum(w, 1))
        tl.store(out_ptr + R + tl.arange(0, C), tl.sum(w, 0))

    @triton.jit
    def transpose_copy(x_ptr, out_ptr, R: tl.constexpr, C: tl.constexpr):
        r = tl.arange(0, R)[:, None]
        c = tl.arange(0, C)[None, :]
        tl.store(out_ptr + c * R + r, tl.load(x_ptr + r * C + c))  # a C-order tile to its transpose

    @triton.jit
    def transpose_load(x_ptr, out_ptr, R: tl.constexpr, C: tl.constexpr):
        r = tl.arange(0, R)[:, None]
        c = tl.arange(0, C)[None, :]
        tl.store(out_ptr + r * C + c, tl.load(x_ptr + c * R + r))  # a transposed tile to C order

    return dict(transpose_copy=transpose_copy, transpose_load=transpose_load,
                transposed_tile_sum=transposed_tile_sum, reverse_copy=reverse_copy, scrambled=scrambled, two_buffers=two_buffers,
                colliding_stores=colliding_stores, wrapping_index=wrapping_index, tile_2d=tile_2d)


@pytest.fixture(scope="module")
def kernels():
    return _kernels()


def test_negative_strides_and_ragged_tail(gen, kernels):
    n = 1000
    x = torch.randn(n, generator=gen)

    def go(x):
        out = torch.full((n,), 99.0)
        _launch(kernels["reverse_copy"], (4,), x, out, n, BLOCK=256)
        return out

    off, on, counts = off_and_on(go, x)
    assert_identical(off, on)
    torch.testing.assert_close(on, (x * 2).flip(0))
    # the ragged block's addresses leave the buffers: it is viewed through the box of its live lanes
    assert counts == {"load_view": 4, "store_view": 4}, counts


def test_non_affine_addresses_are_gathered(gen, kernels):
    n = 4099
    x = torch.randn(n, generator=gen, dtype=torch.float64)

    def go(x):
        out = torch.zeros(n, dtype=torch.float64)
        _launch(kernels["scrambled"], (5,), x, out, n, BLOCK=1024)
        return out

    off, on, counts = off_and_on(go, x)
    assert_identical(off, on)
    torch.testing.assert_close(on, x)
    assert counts.get("load_gather") == 5 and counts.get("store_gather") == 5, counts


def test_addresses_in_two_buffers_fall_back_to_triton(gen, kernels):
    x, y = torch.randn(100, generator=gen), torch.randn(100, generator=gen)

    def go(x, y):
        out = torch.zeros(128)
        _launch(kernels["two_buffers"], (1,), x, y, out, 100, BLOCK=128)
        return out

    off, on, counts = off_and_on(go, x, y)
    assert_identical(off, on)
    torch.testing.assert_close(on, torch.cat([x, y[:28]]))
    assert counts.get("load_triton") == 1, counts


def test_colliding_stores_keep_the_last_lane(gen, kernels):
    x = torch.randn(64, generator=gen)

    def go(x):
        out = torch.zeros(65)
        _launch(kernels["colliding_stores"], (1,), x, out, BLOCK=64)
        return out

    off, on, counts = off_and_on(go, x)
    assert_identical(off, on)
    assert torch.equal(on[:16], x[3::4]) and on[64] == x[63]
    assert "store_view" not in counts, counts  # never through a view with shared addresses


def test_int32_wraparound_is_not_taken_symbolically(kernels):
    def go():
        out = torch.zeros(128, dtype=torch.int32)
        _launch(kernels["wrapping_index"], (1,), out, BLOCK=128)
        return out

    off, on, _ = off_and_on(go)
    assert_identical(off, on)
    expected = (np.arange(128, dtype=np.int64) * 1_000_000_007 + 5).astype(np.int32)  # two's complement wrap
    assert np.array_equal(on.numpy(), expected)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int32, torch.int64])
def test_2d_tiles_masked_transposed(gen, kernels, dtype):
    rows, cols = 70, 45
    base = torch.randn(rows, cols + 3, generator=gen) * 100
    x = base.to(dtype)[:, :cols]  # row stride cols + 3: not contiguous

    def go(x):
        out = torch.zeros(cols * rows, dtype=dtype)
        _launch(kernels["tile_2d"], (3, 2), x, out, rows, cols, x.stride(0), BLOCK_R=32, BLOCK_C=32)
        return out

    off, on, counts = off_and_on(go, x)
    assert_identical(off, on)
    assert torch.equal(on.view(cols, rows), (x + 1).t())
    assert counts.get("load_view", 0) > 0, counts


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float_sums_see_the_same_memory_order(gen, kernels, dtype):
    """numpy sums in an order that follows its input's memory layout: loads return C order, as Triton's do."""
    R, C = 64, 256
    x = torch.randn(C, R, generator=gen, dtype=dtype) * 1000

    def go(x):
        out = torch.zeros(R + C, dtype=dtype)
        _launch(kernels["transposed_tile_sum"], (1,), x, out, R=R, C=C)
        return out

    off, on, counts = off_and_on(go, x)
    assert_identical(off, on)
    torch.testing.assert_close(on[:R], (x.t() * x.t()).sum(1), rtol=1e-5, atol=1e-2)
    assert counts.get("load_view") == 1, counts


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.int64, torch.int8, torch.bool])
@pytest.mark.parametrize("kernel", ["transpose_copy", "transpose_load"])
def test_large_transposed_tiles(gen, kernels, dtype, kernel):
    """Tiles of 8,192 elements whose memory runs across them: PyTorch's blocked copy, same bits."""
    R, C = 128, 64
    x = (torch.randn(R * C, generator=gen) * 100).to(dtype)

    def go(x):
        out = torch.zeros(R * C, dtype=dtype)
        _launch(kernels[kernel], (1,), x, out, R=R, C=C)
        return out

    off, on, counts = off_and_on(go, x)
    assert_identical(off, on)
    expected = x.view(R, C).t() if kernel == "transpose_copy" else x.view(C, R).t()
    assert torch.equal(on, expected.reshape(-1))
    assert counts == {"load_view": 1, "store_view": 1}, counts


def test_language_patches_are_replayed_exactly(fast, gen):
    """Later launches set the attributes Triton's ``_patch_lang`` set on the first, in the same order."""
    from ext_codegen.triton_backend import language

    check_compiled(lambda x: x.exp() + 1, torch.randn(100, generator=gen))
    recorded = language._LANGUAGE_PATCHES
    assert recorded
    interp = language.interp
    fresh = interp._patch_lang(language._LANGUAGE_PROBE)
    try:
        interp._patch_builtin(language.cuda_libdevice(), interp.interpreter_builder, fresh)
        names = [(id(obj), name) for obj, name, _ in fresh._changes]
    finally:
        fresh.restore()
    assert names == [(id(obj), name) for obj, name, _ in recorded]
