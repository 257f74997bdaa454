"""The interpreter gaps closed by ext_codegen.triton_backend.gaps, each checked against eager."""

import pytest
import torch

from tests.helpers import compile_and_check, on_interpreter, run_python
from ext_codegen.triton_backend.gaps.libdevice import LIBDEVICE_TO_TORCH, _libdevice_torch_fn


UNARY = ["exp", "erf", "tanh", "log1p", "expm1", "asinh", "acosh", "atanh", "lgamma", "erfinv", "rsqrt", "log2"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_libdevice_unary(ext_cpu, gen, name, dtype):
    op = getattr(torch, name)
    x = torch.rand(500, generator=gen, dtype=dtype) * 0.9 + 0.05
    if name == "acosh":
        x = x + 1
    tol = dict(atol=1e-12, rtol=1e-12) if dtype == torch.float64 else dict(atol=1e-5, rtol=1e-5)
    compile_and_check(op, x, reference_dtype=dtype, **tol)


def test_symbol_lookup():
    assert _libdevice_torch_fn("__nv_erff") is LIBDEVICE_TO_TORCH["erf"]
    assert _libdevice_torch_fn("__nv_erf") is LIBDEVICE_TO_TORCH["erf"]
    assert _libdevice_torch_fn("__nv_isnand") is LIBDEVICE_TO_TORCH["isnan"]
    assert _libdevice_torch_fn("__nv_no_such_thing") is None


def test_bf16_constants_and_conversion_round_like_eager(ext_cpu, gen):
    """With Inductor's ``emulate_precision_casts`` every bf16 rounding matches eager bit for bit.

    (By default Inductor keeps an intermediate ``.to(bf16)`` in float32 on
    every Triton device; that is Inductor's choice, not the interpreter's.)
    """
    import torch._inductor.config as cfg

    x = torch.randn(3000, generator=gen) * 100
    with cfg.patch(emulate_precision_casts=True):
        out, code = compile_and_check(
            lambda x: (x.to(torch.bfloat16) + torch.tensor(0.1, dtype=torch.bfloat16)) * 3,
            x, reference_dtype=torch.float32, atol=0, rtol=0,
        )
    assert out.dtype == torch.bfloat16
    assert "tl.bfloat16" in code


def test_reductions_work_whatever_the_import_order(tmp_path):
    """Import Inductor's triton_helpers first, then register: reductions still run."""
    done = run_python("""
        import torch
        from torch._inductor.runtime import triton_helpers  # imported before ext_codegen
        import ext_codegen
        ext_codegen.register("cpu")
        x = torch.randn(37, 129, dtype=torch.float64)
        out = torch.compile(lambda x: x.amax(1) + x.sum(1))(x)
        torch.testing.assert_close(out, x.amax(1) + x.sum(1))
        print("OK")
        """)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK")


def test_language_is_restored_after_a_launch(ext_cpu, gen):
    import triton.language as tl

    before = (tl.zeros, tl.core.full, tl.reduce, tl.tensor.__add__)
    compile_and_check(lambda x: torch.softmax(x, -1), torch.randn(4, 33, generator=gen))
    assert (tl.zeros, tl.core.full, tl.reduce, tl.tensor.__add__) == before


def test_user_triton_kernel_runs_on_cpu(gen):
    """A hand-written @triton.jit kernel launched on cpu tensors uses the same driver."""
    import triton
    import triton.language as tl

    @triton.jit
    def axpy(x_ptr, y_ptr, out_ptr, a, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        tl.store(out_ptr + offs, a * tl.load(x_ptr + offs, mask) + tl.load(y_ptr + offs, mask), mask)

    x, y = torch.randn(1000, generator=gen), torch.randn(1000, generator=gen)
    out = torch.empty_like(x)
    with on_interpreter():  # ours by default without a GPU; selected on a GPU machine
        axpy[(triton.cdiv(1000, 256),)](x, y, out, 2.5, 1000, BLOCK=256)
    torch.testing.assert_close(out, 2.5 * x + y)


def test_float_comparisons_combine_with_and(ext_cpu, gen):
    """``(x == x) & (|x| != inf)`` is what Inductor emits for logaddexp and isclose."""
    a, b = torch.randn(300, generator=gen), torch.randn(300, generator=gen)
    a[::7] = float("inf")
    compile_and_check(torch.logaddexp, a, b)
    compile_and_check(lambda a, b: torch.isclose(a, b, rtol=0.5, atol=0.3), a, b)


def test_fast_reductions_keep_inductor_semantics(ext_cpu, gen):
    """max/min/argmax/prod/any/var_mean run through numpy fast paths: ties, NaN and all."""
    x = torch.randn(16, 257, generator=gen, dtype=torch.float64)
    x[3, 10] = float("nan")
    x[5, :] = 1.0  # all tied: argmax is the first index
    x[6, 7] = x[6, 100] = 50.0  # two maxima: the first wins
    compile_and_check(lambda x: (x.amax(1), x.amin(1), x.argmax(1), x.argmin(1)), x)
    compile_and_check(lambda x: torch.var_mean(x, 1, correction=1), x.nan_to_num(), atol=1e-10, rtol=1e-10)
    compile_and_check(lambda x: ((x.abs() + 0.5).prod(1), (x > 2).any(1)), x.nan_to_num())


def test_looped_reduction_over_large_rows(ext_cpu, gen):
    x = torch.randn(8, 20000, generator=gen, dtype=torch.float64)
    compile_and_check(lambda x: (x.amax(1), torch.var_mean(x, 1)), x, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("n", [10_000, 65_537, 3])
def test_widened_blocks_cover_every_element(ext_cpu, gen, n):
    """Fewer, wider program instances; ragged tails still masked correctly."""
    from ext_codegen.triton_backend import launch, widening

    x = torch.randn(n, generator=gen, dtype=torch.float64)
    fn = lambda x: (x.sin() * 2 + x.cos()).relu()  # noqa: E731
    compile_and_check(fn, x)  # compiles (and, with a cold cache, autotunes)
    compiled = torch.compile(fn)
    compiled(x)
    before = launch.program_count
    torch.testing.assert_close(compiled(x), fn(x))
    ran = launch.program_count - before
    assert ran <= max(1, -(-n // widening.ELEMENTS_PER_PROGRAM)) * 2


def test_widened_persistent_reduction_rows(ext_cpu, gen):
    from ext_codegen.triton_backend import launch, widening

    x = torch.randn(999, 64, generator=gen, dtype=torch.float64)
    compile_and_check(lambda x: torch.softmax(x, -1), x)
    compiled = torch.compile(lambda x: torch.softmax(x, -1))
    compiled(x)
    before = launch.program_count
    torch.testing.assert_close(compiled(x), torch.softmax(x, -1))
    assert launch.program_count - before < 999 // 8  # one row per program unwidened


def test_widened_persistent_reduction_stays_within_triton_block_limit(ext_cpu, gen):
    """Rows of 1,024: the in-kernel R0_BLOCK counts against the widened size.

    Regression: widening once ignored the persistent reduction's R0_BLOCK and
    built a 4096 x 1024 block, over Triton's 2^20-element tensor limit.
    """
    x = torch.randn(4096, 1024, generator=gen, dtype=torch.float32)
    compiled = torch.compile(lambda x: torch.softmax(x, -1))
    torch.testing.assert_close(compiled(x).double(), torch.softmax(x.double(), -1), atol=1e-6, rtol=1e-5)
