"""Hand-written Triton kernels, one or more per op group, native against the interpreter (ported from the prototype)."""

from __future__ import annotations

import pytest
import torch
import triton
import triton.language as tl
from triton.language.extra import libdevice

from ext_codegen.triton_backend.native import launcher, route, ttir
from tests.helpers import SEED, on_interpreter
from tests.triton_backend.native.compare import native_vs_interpreter

torch.manual_seed(SEED)
N = 1000


def special_floats(n, dtype=torch.float32):
    x = torch.randn(n) * 3
    x[:8] = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-40, -1e30, 1.0])
    return x.to(dtype)


# --- elementwise float ------------------------------------------------------------------------

@triton.jit
def float_ops(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m, other=1.0)
    y = tl.load(y_ptr + offs, mask=m, other=2.0)
    tl.store(out_ptr + 0 * n + offs, x + y * 2.0 - x / y, mask=m)
    tl.store(out_ptr + 1 * n + offs, tl.maximum(x, y), mask=m)
    tl.store(out_ptr + 2 * n + offs, tl.minimum(x, y, propagate_nan=tl.PropagateNan.ALL), mask=m)
    tl.store(out_ptr + 3 * n + offs, tl.where(x > y, -x, tl.abs(y)), mask=m)
    tl.store(out_ptr + 4 * n + offs, x % y, mask=m)
    tl.store(out_ptr + 5 * n + offs, tl.sqrt_rn(tl.abs(x)) + tl.floor(y) + tl.ceil(x), mask=m)
    tl.store(out_ptr + 6 * n + offs, (x != x).to(tl.float32) + (x >= y).to(tl.float32), mask=m)


def test_float_ops():
    x, y = special_floats(N), special_floats(N).flip(0)
    native_vs_interpreter(float_ops, (4,), dict(x_ptr=x, y_ptr=y, out_ptr=torch.zeros(7 * N), n=N),
                          dict(BLOCK=256))


@triton.jit
def math_ops(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    tl.store(out_ptr + 0 * n + offs, tl.exp(x) + tl.log(tl.abs(x)), mask=m)
    tl.store(out_ptr + 1 * n + offs, tl.sin(x) * tl.cos(x), mask=m)
    tl.store(out_ptr + 2 * n + offs, libdevice.tanh(x) + libdevice.erf(x), mask=m)
    tl.store(out_ptr + 3 * n + offs, libdevice.pow(tl.abs(x), 0.5) + libdevice.log1p(tl.abs(x)), mask=m)
    tl.store(out_ptr + 4 * n + offs, libdevice.isnan(x).to(tl.float32) + libdevice.atan2(x, 2.0), mask=m)
    tl.store(out_ptr + 5 * n + offs, tl.rsqrt(tl.abs(x) + 1) + tl.exp2(x) + tl.log2(tl.abs(x) + 1), mask=m)


def test_math_ops():
    x = torch.randn(N) * 2
    native_vs_interpreter(math_ops, (4,), dict(x_ptr=x, out_ptr=torch.zeros(6 * N), n=N), dict(BLOCK=256),
                          rtol=1e-5, atol=1e-6)


@triton.jit
def half_ops(x_ptr, b_ptr, h_ptr, ob_ptr, oh_ptr, of_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    b = tl.load(b_ptr + offs, mask=m)
    h = tl.load(h_ptr + offs, mask=m)
    tl.store(ob_ptr + offs, x.to(tl.bfloat16), mask=m)           # f32 -> bf16 rounding
    tl.store(oh_ptr + offs, x.to(tl.float16), mask=m)            # f32 -> f16 rounding
    tl.store(ob_ptr + n + offs, b * b + b, mask=m)               # bf16 arithmetic
    tl.store(oh_ptr + n + offs, h * h - h, mask=m)               # f16 arithmetic
    tl.store(of_ptr + offs, b.to(tl.float32) + h.to(tl.float32), mask=m)


def test_half_ops():
    x = special_floats(N) * 1.337
    b, h = torch.randn(N).bfloat16(), torch.randn(N).half()
    native_vs_interpreter(half_ops, (4,), dict(x_ptr=x, b_ptr=b, h_ptr=h, ob_ptr=torch.zeros(2 * N).bfloat16(),
                                               oh_ptr=torch.zeros(2 * N).half(), of_ptr=torch.zeros(N), n=N),
                          dict(BLOCK=256))


# --- integers -----------------------------------------------------------------------------------

@triton.jit
def int_ops(a_ptr, b_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    a = tl.load(a_ptr + offs, mask=m)
    b = tl.load(b_ptr + offs, mask=m)
    tl.store(out_ptr + 0 * n + offs, a + b * 7, mask=m)       # wraps
    tl.store(out_ptr + 1 * n + offs, a // b, mask=m)          # b may be 0 or -1 with a == INT_MIN
    tl.store(out_ptr + 2 * n + offs, a % b, mask=m)
    tl.store(out_ptr + 3 * n + offs, (a ^ b) | (a & 0xFF), mask=m)
    tl.store(out_ptr + 4 * n + offs, (a << (b & 15)) + (a >> (b & 7)), mask=m)
    tl.store(out_ptr + 5 * n + offs, (a.to(tl.uint32) >> 3).to(tl.int32), mask=m)
    tl.store(out_ptr + 6 * n + offs, tl.where(a.to(tl.uint32) < b.to(tl.uint32), 1, 0), mask=m)
    tl.store(out_ptr + 7 * n + offs, tl.minimum(a, b) + (a.to(tl.float32) * 0.5).to(tl.int32), mask=m)
    tl.store(out_ptr + 8 * n + offs, (a.to(tl.int64) * 3000000).to(tl.int32), mask=m)
    tl.store(out_ptr + 9 * n + offs, (a.to(tl.int8) + 100).to(tl.int32), mask=m)


def test_int_ops():
    a = torch.randint(-2**31, 2**31 - 1, (N,), dtype=torch.int32)
    b = torch.randint(-50, 50, (N,), dtype=torch.int32)
    a[:4] = torch.tensor([-2**31, -2**31, 2**31 - 1, 17])
    b[:4] = torch.tensor([-1, 0, 1, 0])
    native_vs_interpreter(int_ops, (4,), dict(a_ptr=a, b_ptr=b, out_ptr=torch.zeros(10 * N, dtype=torch.int32),
                                              n=N), dict(BLOCK=256))


# --- memory: 2-D blocks, broadcast, masks ---------------------------------------------------------

@triton.jit
def tile_ops(x_ptr, col_ptr, out_ptr, rows, cols, XB: tl.constexpr, YB: tl.constexpr):
    r = tl.program_id(0) * XB + tl.arange(0, XB)[:, None]
    c = tl.program_id(1) * YB + tl.arange(0, YB)[None, :]
    m = (r < rows) & (c < cols)
    x = tl.load(x_ptr + r.to(tl.int64) * cols + c, mask=m, other=-1.0)
    w = tl.load(col_ptr + c, mask=c < cols, other=0.0)
    y = x * w + tl.trans(tl.trans(x))
    tl.store(out_ptr + r * cols + c, y, mask=m)
    tl.store(out_ptr + rows * cols + c + r * 0, tl.reshape(tl.reshape(w, [YB]), [1, YB]), mask=c < cols)


def test_tile_ops():
    rows, cols = 37, 70
    x, w = torch.randn(rows, cols), torch.randn(cols)
    native_vs_interpreter(tile_ops, (3, 3), dict(x_ptr=x, col_ptr=w, out_ptr=torch.zeros(rows * cols + cols),
                                                 rows=rows, cols=cols), dict(XB=16, YB=32))


# --- reductions and scans -------------------------------------------------------------------------

@triton.jit
def reductions(x_ptr, out_ptr, idx_ptr, R: tl.constexpr, C: tl.constexpr):
    r = tl.arange(0, R)[:, None]
    c = tl.arange(0, C)[None, :]
    x = tl.load(x_ptr + r * C + c)
    tl.store(out_ptr + tl.arange(0, R), tl.sum(x, 1))
    tl.store(out_ptr + R + tl.arange(0, C), tl.max(x, 0))
    tl.store(out_ptr + R + C + tl.arange(0, R), tl.min(x, 1))
    v, i = tl.max(x, 1, return_indices=True)
    tl.store(idx_ptr + tl.arange(0, R), i)
    tl.store(out_ptr + 2 * R + C, tl.sum(tl.sum(x, 1), 0) + tl.reduce(x, None, _mul_combine))


@triton.jit
def _mul_combine(a, b):
    return a * b


def test_reductions():
    x = torch.randn(16, 64)
    native_vs_interpreter(reductions, (1,), dict(x_ptr=x, out_ptr=torch.zeros(2 * 16 + 64 + 1),
                                                 idx_ptr=torch.zeros(16, dtype=torch.int32)),
                          dict(R=16, C=64), rtol=1e-5, atol=1e-6)


@triton.jit
def sibling_reductions(x_ptr, out_ptr, idx_ptr, n, R: tl.constexpr, C: tl.constexpr):
    """A row sum, a row max and an argmin of one masked load: one loop."""
    r = tl.arange(0, R)[:, None]
    c = tl.arange(0, C)[None, :]
    m = (r < n) & (c < n)
    x = tl.load(x_ptr + r * C + c, mask=m, other=0.0)
    s = tl.sum(x, 1)
    mx = tl.max(x, 1)
    mn, i = tl.min(x, 1, return_indices=True)
    tl.store(out_ptr + tl.arange(0, R), s + mx)
    tl.store(out_ptr + R + tl.arange(0, R), mn)
    tl.store(idx_ptr + tl.arange(0, R), i)


def test_sibling_reductions_share_one_loop(gen):
    # no NaN: an argmin's combine compares without a NaN rule, so with one its result depends on the
    # order of combination, which differs between the interpreter's releases and the native loop
    x = torch.randn(16, 64, generator=gen)
    _, compiled = native_vs_interpreter(
        sibling_reductions, (1,), dict(x_ptr=x, out_ptr=torch.zeros(32), idx_ptr=torch.zeros(16, dtype=torch.int32),
                                       n=60), dict(R=16, C=64), rtol=1e-5, atol=1e-5)  # 60-term float32 sums, any order
    # the three reductions accumulate in one loop, in the fast copy and in the exact one
    assert compiled.source.count("for (int64_t kk = 1;") == 2


@triton.jit
def _pair_combine(a, ia, b, ib):
    return a + b, tl.maximum(ia, ib)


@triton.jit
def scans(x_ptr, out_ptr, R: tl.constexpr, C: tl.constexpr):
    r = tl.arange(0, R)[:, None]
    c = tl.arange(0, C)[None, :]
    x = tl.load(x_ptr + r * C + c)
    tl.store(out_ptr + r * C + c, tl.cumsum(x, 1))
    tl.store(out_ptr + R * C + r * C + c, tl.cumsum(x, 0, reverse=True))
    s, m = tl.associative_scan((x, (x * 100).to(tl.int32)), 1, _pair_combine)
    tl.store(out_ptr + 2 * R * C + r * C + c, s + m.to(tl.float32))


def test_scans():
    x = torch.randn(8, 32)
    native_vs_interpreter(scans, (1,), dict(x_ptr=x, out_ptr=torch.zeros(3 * 8 * 32)), dict(R=8, C=32),
                          rtol=1e-5, atol=1e-5)


# --- control flow ------------------------------------------------------------------------------

@triton.jit
def loops(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    acc = tl.zeros([BLOCK], tl.float32)
    cnt = tl.zeros([BLOCK], tl.int32)
    for start in range(0, n, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        v = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
        acc, cnt = acc + v, cnt + (v > 0).to(tl.int32)
    if pid % 2 == 0:
        acc = acc * 2
    else:
        acc = acc - 1
    k = 0
    while k < pid + 3:
        acc = acc + k
        k += 1
    tl.store(out_ptr + pid * BLOCK + tl.arange(0, BLOCK), acc + cnt.to(tl.float32))


def test_loops():
    x = torch.randn(1000)
    native_vs_interpreter(loops, (3,), dict(x_ptr=x, out_ptr=torch.zeros(3 * 128), n=1000), dict(BLOCK=128))


@triton.jit
def loops_without_results(x_ptr, out_ptr, n, RB: tl.constexpr):
    # Inductor's looped reduction: a loop that carries the row's max, then a loop that only stores
    # (no iter_args: MLIR prints it without its ``scf.yield``), a nested one and an ``scf.if`` without results.
    row = tl.program_id(0)
    base = tl.arange(0, RB)[None, :]
    acc = tl.full([1, RB], float("-inf"), tl.float32)
    for off in range(0, n, RB):
        c = off + base
        acc = tl.maximum(acc, tl.load(x_ptr + row * n + c, mask=c < n, other=float("-inf")))
    mx = tl.max(acc, 1)[:, None]
    for off in range(0, n, RB):
        c = off + base
        v = tl.load(x_ptr + row * n + c, mask=c < n, other=0.0)
        tl.store(out_ptr + row * n + c, tl.exp(v - mx), mask=c < n)
    for k in range(0, 2):
        for off in range(0, n, RB):
            c = off + base
            v = tl.load(out_ptr + row * n + c, mask=c < n, other=0.0)
            tl.store(out_ptr + row * n + c, v + k, mask=c < n)
    if row % 2 == 0:
        tl.store(out_ptr + row * n + base, -tl.load(out_ptr + row * n + base, mask=base < n), mask=base < n)


def test_loops_without_results():
    x = torch.randn(4, 1000)
    handle, _ = native_vs_interpreter(loops_without_results, (4,), dict(x_ptr=x, out_ptr=torch.zeros(4, 1000), n=1000),
                                      dict(RB=128), rtol=1e-6, atol=1e-6)  # exp: the interpreter's and libm's
    lines = [ln.strip() for ln in handle.asm["ttir"].splitlines()]
    # the forms without results (no ``%r = `` in front), not folded away
    assert any(ln.startswith("scf.for ") for ln in lines) and any(ln.startswith("scf.if ") for ln in lines)


# --- atomics and programs that wait for each other ---------------------------------------------------

@triton.jit
def atomics(x_ptr, acc_ptr, cnt_ptr, max_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m, other=0)
    tl.atomic_add(acc_ptr + (offs % 4), x, mask=m)
    tl.atomic_add(cnt_ptr + (offs % 3), 1, mask=m)
    tl.atomic_max(max_ptr + (offs % 5), (x * 1000).to(tl.int32), mask=m)
    tl.atomic_xchg(max_ptr + 5 + tl.program_id(0) * 0, 7)


def test_atomics():
    x = torch.randint(-100, 100, (20000,)).float()
    native_vs_interpreter(atomics, (40,), dict(x_ptr=x, acc_ptr=torch.zeros(4), cnt_ptr=torch.zeros(3, dtype=torch.int32),
                                               max_ptr=torch.zeros(6, dtype=torch.int32), n=20000),
                          dict(BLOCK=512), threads=2)


@triton.jit
def chained(x_ptr, flags_ptr, out_ptr, BLOCK: tl.constexpr):
    """Each program waits for its predecessor's flag, then publishes its running total (a decoupled look-back)."""
    pid = tl.program_id(0)
    total = tl.sum(tl.load(x_ptr + pid * BLOCK + tl.arange(0, BLOCK)), 0)
    if pid > 0:
        flag = tl.atomic_add(flags_ptr + pid - 1, 0, sem="acquire")
        while flag == 0:
            flag = tl.atomic_add(flags_ptr + pid - 1, 0, sem="acquire")
        total += tl.load(out_ptr + pid - 1)
    tl.store(out_ptr + pid, total)
    tl.atomic_xchg(flags_ptr + pid, 1, sem="release")


def test_chained_programs_on_threads():
    """Programs spin on their predecessor: the shared counter hands ids out in order, so 2 threads never deadlock."""
    progs = 512
    x = torch.randint(0, 10, (progs * 64,)).float()
    native_vs_interpreter(chained, (progs,), dict(x_ptr=x, flags_ptr=torch.zeros(progs, dtype=torch.int32),
                                                  out_ptr=torch.zeros(progs)), dict(BLOCK=64), threads=2)


# --- dot, assert, unsupported ------------------------------------------------------------------------

@triton.jit
def matmul(a_ptr, b_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
    m = tl.arange(0, M)[:, None]
    n = tl.arange(0, N)[None, :]
    k = tl.arange(0, K)
    a = tl.load(a_ptr + m * K + k[None, :])
    b = tl.load(b_ptr + k[:, None] * N + n)
    tl.store(c_ptr + m * N + n, tl.dot(a, b, input_precision="ieee") + 1.0)


def test_dot():
    a, b = torch.randn(16, 32), torch.randn(32, 16)
    native_vs_interpreter(matmul, (1,), dict(a_ptr=a, b_ptr=b, c_ptr=torch.zeros(16, 16)), dict(M=16, N=16, K=32),
                          rtol=1e-5, atol=1e-5)


@triton.jit
def checked(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0)
    tl.device_assert(x < 100, "index out of bounds: x < 100")


def test_assert_raises_naming_kernel():
    x = torch.zeros(300, dtype=torch.int32)
    x[257] = 1000
    with on_interpreter():
        handle = checked[(3,)](torch.zeros(300, dtype=torch.int32), 300, BLOCK=128, debug=True)
    compiled = route.compile_ttir(handle.asm["ttir"])
    compiled.kernel((3,), [torch.zeros(300, dtype=torch.int32), 300])  # passes
    with pytest.raises(launcher.DeviceAssertionError, match=r"checked: .*index out of bounds: x < 100"):
        compiled.kernel((3,), [x, 300])


@triton.jit
def joined(x_ptr, out_ptr, BLOCK: tl.constexpr):
    x = tl.load(x_ptr + tl.arange(0, BLOCK))
    tl.store(out_ptr + tl.arange(0, 2 * BLOCK), tl.reshape(tl.join(x, x), [2 * BLOCK]))


def test_unsupported_names_the_op():
    with on_interpreter():
        handle = joined[(1,)](torch.zeros(16), torch.zeros(32), BLOCK=16)
    with pytest.raises(ttir.Unsupported, match="tt.join"):
        route.compile_ttir(handle.asm["ttir"])
