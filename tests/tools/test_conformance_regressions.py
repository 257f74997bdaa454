"""Regression tests for the bugs the conformance tool and the fuzzer found.

Each test names the finding (which OpInfo entry or which fuzzed program
showed it) and checks the smallest case that showed it.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
import torch.nn.functional as F

from tests.helpers import compile_and_check, on_interpreter

from ext_codegen.compat import torch_versions


@contextlib.contextmanager
def single_thread():
    """Inductor picks Triton scatter kernels (atomics) over ATen's scatter only with one cpu thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)




# -------------------------------------------------------------------- atomics
# OpInfo ``max_pool2d_with_indices_backward`` (float32, first sample, one
# thread): where two pooling windows picked the same input element the result
# was garbage (3e-41 instead of 2).  Inductor scatters the constant gradient
# with ``tl.atomic_add(ptrs, 1.0, mask)``; Triton's interpreter broadcast the
# 1.0 with a stride-0 numpy view that its C++ atomic read as a dense array.


def test_atomic_add_of_a_scalar_to_repeated_addresses():
    import triton
    import triton.language as tl

    @triton.jit
    def count(out_ptr, idx_ptr, N: tl.constexpr):
        i = tl.arange(0, N)
        tl.atomic_add(out_ptr + tl.load(idx_ptr + i), 1.0)

    idx = torch.tensor([0, 1, 1, 3, 3, 3, 2, 0], dtype=torch.int32)
    out = torch.zeros(4)
    with on_interpreter():
        count[(1,)](out, idx, 8)
    torch.testing.assert_close(out, torch.bincount(idx, minlength=4).float())


def test_atomic_max_with_a_broadcast_operand():
    import triton
    import triton.language as tl

    @triton.jit
    def floor_at(out_ptr, idx_ptr, value, N: tl.constexpr):
        i = tl.arange(0, N)
        tl.atomic_max(out_ptr + tl.load(idx_ptr + i), value)

    idx = torch.tensor([2, 0, 2, 2], dtype=torch.int32)
    out = torch.tensor([-1.0, 5.0, -1.0])
    with on_interpreter():
        floor_at[(1,)](out, idx, 0.5, 4)
    torch.testing.assert_close(out, torch.tensor([0.5, 5.0, 0.5]))


@pytest.mark.skipif(
    torch_versions.TORCH_VERSION < (2, 13), reason="torch 2.11's Inductor lowers this backward without tl.atomic_add"
)
def test_max_pool2d_backward_with_overlapping_windows(ext_cpu):
    def pool_backward(x):
        out, indices = F.max_pool2d_with_indices(x, kernel_size=3, stride=2, ceil_mode=True, return_indices=True)
        return torch.ops.aten.max_pool2d_with_indices_backward.default(
            torch.ones_like(out), x, [3, 3], [2, 2], [0, 0], [1, 1], True, indices
        )

    # The OpInfo sample: overlapping windows pick the same maximum twice.
    x = torch.tensor([[[[0.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 9, 0], [0, 8, 0, 0, 0, 0]]]]).repeat(1, 2, 1, 1)
    with single_thread():
        out, code = compile_and_check(pool_backward, x)
    assert "tl.atomic_add" in code
    assert out.max().item() == 2.0


def test_index_put_accumulate_with_repeated_indices(ext_cpu):
    def accumulate(v, idx):
        return torch.zeros_like(v).index_put((idx,), v, accumulate=True)

    with single_thread():
        compile_and_check(accumulate, torch.arange(6.0) + 1, torch.tensor([1, 1, 2, 4, 4, 4]))


# -------------------------------------------------------------------- scalar arguments
# tests/end_to_end/test_fuzz.py: ``atan2(x, y)`` with ``y`` a 0-d float64 tensor raised
# ``KeyError: (fp64, fp32)`` in ``libdevice.atan2``.  Inductor passes a 0-d cpu
# tensor to the kernel by value, typed ``fp64`` in the kernel's signature; the
# interpreter ignored the signature and Triton took the Python float for fp32.


@pytest.mark.parametrize("fn", [torch.atan2, torch.hypot, torch.pow, torch.copysign], ids=lambda f: f.__name__)
def test_float64_zero_dim_tensor_passed_by_value(ext_cpu, gen, fn):
    x = torch.rand(2, 3, generator=gen, dtype=torch.float64) + 0.5
    y = torch.tensor(1.2345678901234567, dtype=torch.float64)
    out, code = compile_and_check(fn, x, y, atol=0, rtol=1e-15)
    assert out.dtype == torch.float64


def test_scalar_arguments_follow_the_signature(ext_cpu):
    # A float64 scalar keeps its 53 bits: as fp32 the difference below would be 0.
    x = torch.zeros(4, dtype=torch.float64)
    y = torch.tensor(1 + 2**-40, dtype=torch.float64)
    out, _ = compile_and_check(lambda x, y: (x + y) - 1, x, y, atol=0, rtol=0)
    assert out[0].item() == 2**-40


def test_scalar_argument_types():
    import numpy as np

    from ext_codegen.triton_backend.launch import _scalar_argument

    assert _scalar_argument(0.1, "fp64").handle.data.dtype == np.float64
    assert _scalar_argument(3, "i64").handle.data.dtype == np.int64
    assert _scalar_argument(True, "i1").handle.data.dtype == np.bool_
    assert _scalar_argument(3, None).handle.data.dtype == np.int32  # Triton's own rule without a signature


# -------------------------------------------------------------------- low-precision casts
# tests/end_to_end/test_fuzz.py: ``x.to(torch.bfloat16).to(torch.float64)`` was not rounded
# to bfloat16.  Not a bug of this package: Inductor's Triton code computes in
# float32 whatever the intermediate dtype (stock Inductor on CUDA too), unless
# ``emulate_precision_casts`` is set; the C++ backend rounds.  With the option
# the interpreter's casts must round exactly as eager does.


@pytest.mark.skipif(
    torch_versions.TORCH_VERSION < (2, 13),
    reason="torch 2.11's Inductor drops the round trip in its Triton code even with emulate_precision_casts",
)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_round_trip_with_emulated_casts(ext_cpu, gen, dtype):
    x = torch.randn(64, generator=gen, dtype=torch.float64) * 3
    with torch._inductor.config.patch(emulate_precision_casts=True):
        compile_and_check(lambda x: x.abs().to(dtype).to(torch.float64), x, atol=0, rtol=0)


# -------------------------------------------------------------------- bf16 atomics
# OpInfo ``scatter_add``, ``put``, ``scatter_reduce.sum`` and
# ``_unsafe_masked_index_put_accumulate`` in bfloat16 (first sample, one
# thread): ``ValueError: Unsupported data type``.  The interpreter's C++ atomic
# has no bf16; the interpreter now does the read-modify-write itself.


def test_bf16_atomic_add_to_repeated_addresses():
    import triton
    import triton.language as tl

    @triton.jit
    def scatter(out_ptr, idx_ptr, v_ptr, N: tl.constexpr):
        i = tl.arange(0, N)
        tl.atomic_add(out_ptr + tl.load(idx_ptr + i), tl.load(v_ptr + i), sem="relaxed")

    idx = torch.tensor([0, 1, 1, 3, 3, 3, 2, 0], dtype=torch.int32)
    values = (torch.arange(8) + 1).to(torch.bfloat16)
    out = torch.zeros(4, dtype=torch.bfloat16)
    with on_interpreter():
        scatter[(1,)](out, idx, values, 8)
    assert torch.equal(out, torch.zeros(4, dtype=torch.bfloat16).index_add(0, idx.long(), values))


@pytest.mark.parametrize("accumulate", ["scatter_add", "index_put"])
def test_bf16_scatter_kernels(ext_cpu, gen, accumulate):
    idx = torch.tensor([[0, 2, 2], [1, 1, 0]])
    src = torch.randn(2, 3, generator=gen).to(torch.bfloat16)

    def fn(x, src):
        if accumulate == "scatter_add":
            return x.scatter_add(1, idx, src)
        return x[0].index_put((idx[0],), src[0], accumulate=True)

    x = torch.zeros(2, 3, dtype=torch.bfloat16)
    torch._dynamo.reset()
    with single_thread():
        out = torch.compile(fn)(x, src)
    torch.testing.assert_close(out, fn(x, src), atol=1e-2, rtol=1.6e-2)
