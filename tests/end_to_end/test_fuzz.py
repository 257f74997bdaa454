"""Differential fuzzing: random small graphs, compiled with the extension backend, against eager.

Hypothesis draws a few input tensors (shapes, layouts, values, sometimes NaN
and infinities) and a short program: a list of steps, each a pointwise op, a
reduction, a scan, a broadcast, a view or an indexing op, reading earlier
values.  The program is plain Python over ``torch`` (its parameters are
constants), so Dynamo traces it like any model code; the compiled result must
match eager, in float64 for most programs so that a difference is a bug and
not rounding.

CI runs a few deterministic examples.  Run longer, with fresh random examples::

    EXT_CODEGEN_FUZZ_EXAMPLES=500 python -m pytest -q tests/end_to_end/test_fuzz.py

A failure prints the program (``Program.source()``) as Python to paste into a
regression test in ``tests/tools/test_conformance_regressions.py``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random

import pytest
import torch
import torch.nn.functional as F

import ext_codegen
from ext_codegen.compat import torch_versions

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("EXT_CODEGEN_FUZZ_EXAMPLES", "12"))
ON_DEMAND = "EXT_CODEGEN_FUZZ_EXAMPLES" in os.environ


# ---------------------------------------------------------------- the steps
#
# Every step takes integer parameters and maps them onto valid choices for the
# shapes it meets (modulo arithmetic), so any drawn program runs.


def _float(x):
    return x if x.is_floating_point() else x.to(torch.float64)


def _num(x):
    return x.to(torch.int64) if x.dtype == torch.bool else x


def _dim(x, p):
    return p % x.dim() if x.dim() else None


def _fit(b, shape, p):
    """``b``'s values rearranged to a shape that broadcasts against ``shape``."""
    target = [1 if (p >> i) & 1 else s for i, s in enumerate(shape)]
    n = math.prod(target)
    flat = b.reshape(-1)
    if flat.numel() < n:
        flat = flat.repeat(-(-n // flat.numel()))
    return flat[:n].reshape(target)


def _broadcastable(a, b) -> bool:
    # Plain Python on the (static) shapes: Dynamo turns an exception raised
    # by torch.broadcast_shapes into a compile error instead of tracing the except.
    return all(x == y or x == 1 or y == 1 for x, y in zip(reversed(a.shape), reversed(b.shape)))


def _index(size, p, q, n=None):
    n = n or (q % 4) + 1
    return torch.tensor([(p * (k + 1) + q * k) % size for k in range(n)])


UNARY = {
    "neg": lambda x: -_num(x),
    "abs": lambda x: _num(x).abs(),
    "sin": lambda x: torch.sin(_float(x)),
    "tanh": lambda x: torch.tanh(_float(x)),
    "sigmoid": lambda x: torch.sigmoid(_float(x)),
    "exp": lambda x: torch.exp(_float(x).clamp(max=4)),
    "log1p_abs": lambda x: torch.log1p(_float(x).abs()),
    "sqrt_abs": lambda x: torch.sqrt(_float(x).abs()),
    "rsqrt": lambda x: torch.rsqrt(_float(x).abs() + 0.5),
    "erf": lambda x: torch.erf(_float(x)),
    "gelu": lambda x: F.gelu(_float(x)),
    "relu": lambda x: torch.relu(_num(x)),
    "floor": lambda x: torch.floor(_float(x)),
    "round": lambda x: torch.round(_float(x) * 2),
    "trunc": lambda x: torch.trunc(_float(x) * 3),
    "sign": lambda x: torch.sign(_num(x)),
    "reciprocal": lambda x: torch.reciprocal(_float(x).abs() + 1),
    "square": lambda x: _num(x) * _num(x),
    "clamp": lambda x: _num(x).clamp(-1, 1),
    "isnan": lambda x: torch.isnan(_float(x)),
    "nan_to_num": lambda x: torch.nan_to_num(_float(x), nan=0.5, posinf=3.0, neginf=-3.0),
    "gt0": lambda x: _num(x) > 0,
    "logical_not": lambda x: torch.logical_not(x),
    "to_int": lambda x: torch.nan_to_num(_float(x)).clamp(-50, 50).to(torch.int64),
    "to_int32": lambda x: torch.nan_to_num(_float(x)).clamp(-50, 50).to(torch.int32),
    "round_f32": lambda x: x.to(torch.float32).to(torch.float64),
    "round_bf16": lambda x: x.to(torch.bfloat16).to(torch.float64),
    "round_f16": lambda x: x.to(torch.float16).to(torch.float64),
}
if torch_versions.TORCH_VERSION < (2, 13):
    # torch 2.11's Inductor drops a float64 -> low precision -> float64 round
    # trip in its Triton code even with emulate_precision_casts: not ours.
    del UNARY["round_bf16"], UNARY["round_f16"]

BINARY = {
    "add": lambda a, b: _num(a) + _num(b),
    "sub": lambda a, b: _num(a) - _num(b),
    "mul": lambda a, b: _num(a) * _num(b),
    "div": lambda a, b: _float(a) / (_float(b).abs() + 1),
    "floordiv": lambda a, b: torch.floor_divide(_num(a), _num(b).abs() + 1),
    "remainder": lambda a, b: torch.remainder(_num(a), _num(b).abs() + 1),
    "fmod": lambda a, b: torch.fmod(_num(a), _num(b).abs() + 1),
    "maximum": lambda a, b: torch.maximum(_num(a), _num(b)),
    "minimum": lambda a, b: torch.minimum(_num(a), _num(b)),
    "atan2": lambda a, b: torch.atan2(_float(a), _float(b)),
    "pow": lambda a, b: torch.pow(_float(a).abs() + 0.5, _float(b).clamp(-2, 2)),
    "where": lambda a, b: torch.where(_num(a) > _num(b), a, b),
    "lt": lambda a, b: _num(a) < _num(b),
    "eq": lambda a, b: _num(a) == _num(b),
    "logical_and": lambda a, b: torch.logical_and(a, b),
    "bitwise_xor": lambda a, b: torch.bitwise_xor(
        torch.nan_to_num(_float(a)).clamp(-99, 99).to(torch.int64),
        torch.nan_to_num(_float(b)).clamp(-99, 99).to(torch.int64),
    ),
    "copysign": lambda a, b: torch.copysign(_float(a), _float(b)),
    "hypot": lambda a, b: torch.hypot(_float(a), _float(b)),
    "lerp": lambda a, b: torch.lerp(_float(a), _float(b), 0.3),
}


def _reduce(name):
    def step(x, p, q):
        d, keep = _dim(x, p), bool(q & 1)
        if d is None or (q >> 1) % 4 == 0:  # a full reduction
            x, d, keep = x.reshape(-1), 0, False
        if name in ("argmax", "argmin"):
            return getattr(torch, name)(_num(x), dim=d, keepdim=keep)
        if name == "sum":
            return _num(x).sum(d, keepdim=keep)
        if name == "prod":
            return _float(x).clamp(-2, 2).prod(d, keepdim=keep)
        if name in ("amax", "amin"):
            return getattr(torch, name)(_num(x), d, keepdim=keep)
        if name == "var":
            return torch.var(_float(x), d, keepdim=keep, correction=q % 2)
        if name == "any":
            return torch.any(x, d, keepdim=keep)
        return getattr(torch, name)(_float(x), d, keepdim=keep)

    return step


REDUCTIONS = {name: _reduce(name) for name in
              ("sum", "mean", "amax", "amin", "prod", "var", "argmax", "argmin", "logsumexp", "any")}


def _softmax(x, p, q):
    return torch.softmax(_float(x), _dim(x, p) or 0) if x.dim() else x


def _cumsum(x, p, q):
    return torch.cumsum(_num(x), _dim(x, p) or 0) if x.dim() else x


def _sort_values(x, p, q):
    return torch.sort(_num(x), _dim(x, p) or 0, descending=bool(q & 1)).values if x.dim() else x


def _transpose(x, p, q):
    return x.transpose(p % x.dim(), q % x.dim()) if x.dim() >= 2 else x


def _permute(x, p, q):
    return x.permute(random.Random(p).sample(range(x.dim()), x.dim())) if x.dim() else x


def _reshape(x, p, q):
    if x.dim() >= 2 and p & 1:
        start = q % (x.dim() - 1)
        return x.flatten(start, start + 1)
    d = _dim(x, p)
    if d is not None and x.shape[d] % 2 == 0:
        return x.unflatten(d, (2, x.shape[d] // 2))
    return x.reshape(-1)


def _unsqueeze_expand(x, p, q):
    y = x.unsqueeze(p % (x.dim() + 1))
    shape = list(y.shape)
    shape[p % (x.dim() + 1)] = q % 3 + 1
    return y.expand(shape)


def _slice(x, p, q):
    if not x.dim():
        return x
    d = p % x.dim()
    start = q % x.shape[d]
    index = [slice(None)] * d + [slice(start, None, (q >> 3) % 3 + 1)]
    return x[tuple(index)]


def _flip(x, p, q):
    return x.flip(p % x.dim()) if x.dim() else x


def _select(x, p, q):
    return x.select(p % x.dim(), q % x.shape[p % x.dim()]) if x.dim() else x


def _diagonal(x, p, q):
    return x.diagonal(offset=q % 2 - (q >> 1) % 2) if x.dim() >= 2 else x


def _index_select(x, p, q):
    if not x.dim():
        return x
    d = p % x.dim()
    return x.index_select(d, _index(x.shape[d], p, q))


def _advanced_index(x, p, q):
    if not x.dim():
        return x
    d = p % x.dim()
    return x[(slice(None),) * d + (_index(x.shape[d], p, q),)]


def _gather(x, p, q):
    if not x.dim():
        return x
    d = p % x.dim()
    idx = (torch.arange(x.numel()).reshape(x.shape) * (2 * p + 1) + q) % x.shape[d]
    return torch.gather(x, d, idx)


def _index_add(x, p, q):
    if not x.dim():
        return x
    d = p % x.dim()
    idx = _index(x.shape[d], p, q, n=x.shape[d])  # repeats indices: accumulation order matters
    return torch.zeros_like(_num(x)).index_add(d, idx, _num(x))


def _index_put(x, p, q):
    if not x.dim():
        return x
    y = _num(x).clone()
    idx = _index(x.shape[0], p, q)
    y.index_put_((idx,), y[idx] * 2 + 1, accumulate=bool(q & 1))
    return y


def _slice_assign(x, p, q):
    if not x.dim():
        return x
    y = x.clone()
    y[..., q % x.shape[-1]:: p % 2 + 1] = (q % 5) - 2
    return y


def _masked_fill(x, p, q):
    return _num(x).masked_fill(_num(x) > (q % 3) - 1, p % 7)


def _embedding(x, p, q):
    weight = _float(x).reshape(-1, 1) if x.dim() < 2 else _float(x).flatten(1)
    idx = _index(weight.shape[0], p, q, n=(q % 5) + 1)
    return F.embedding(idx, weight)


SHAPING = {
    "softmax": _softmax, "cumsum": _cumsum, "sort_values": _sort_values,
    "transpose": _transpose, "permute": _permute, "reshape": _reshape,
    "unsqueeze_expand": _unsqueeze_expand, "slice": _slice, "flip": _flip, "select": _select,
    "diagonal": _diagonal, "contiguous": lambda x, p, q: x.contiguous(),
    "index_select": _index_select, "advanced_index": _advanced_index, "gather": _gather,
    "index_add": _index_add, "index_put": _index_put, "slice_assign": _slice_assign,
    "masked_fill": _masked_fill, "embedding": _embedding,
}

STEPS = sorted(UNARY) + sorted(BINARY) + sorted(REDUCTIONS) + sorted(SHAPING)


@dataclasses.dataclass(frozen=True)
class Step:
    op: str
    a: int
    b: int
    p: int
    q: int


@dataclasses.dataclass(frozen=True)
class Program:
    """Inputs (shape, layout, dtype, seed, specials) and steps; ``run`` is the function to compile."""

    shapes: tuple
    layouts: tuple
    dtype: str
    seed: int
    specials: int
    steps: tuple
    outputs: int

    def inputs(self) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed)
        out = []
        for shape, layout in zip(self.shapes, self.layouts):
            base_shape = list(shape)
            if layout == "strided" and shape:
                base_shape[-1] *= 2
            if layout == "transposed":
                base_shape = base_shape[::-1]
            x = torch.randn(base_shape, generator=gen, dtype=torch.float64) * 2
            if self.specials and x.numel():
                flat = x.view(-1)
                values = [float("nan"), float("inf"), -float("inf"), 0.0, -0.0]
                for k in range(self.specials):
                    flat[(self.seed + 7 * k) % flat.numel()] = values[(self.seed + k) % len(values)]
            if layout == "strided" and shape:
                x = x[..., ::2]
            if layout == "transposed":
                x = x.permute(tuple(reversed(range(x.dim()))))
            out.append(x.to(getattr(torch, self.dtype)))
        return out

    def run(self, *xs):
        pool = list(xs)
        for s in self.steps:
            a, b = pool[s.a % len(pool)], pool[s.b % len(pool)]
            if s.op in UNARY:
                y = UNARY[s.op](a)
            elif s.op in BINARY:
                if not _broadcastable(a, b) or s.p % 5 == 0:
                    b = _fit(b, a.shape, s.p)
                y = BINARY[s.op](a, b)
            elif s.op in REDUCTIONS:
                y = REDUCTIONS[s.op](a, s.p, s.q)
            else:
                y = SHAPING[s.op](a, s.p, s.q)
            pool.append(y)
        made = pool[len(xs):]
        return tuple(made[-self.outputs:]) if made else tuple(pool)

    def source(self) -> str:
        """The program as Python, for a regression test."""
        lines = [f"# inputs: shapes={self.shapes} layouts={self.layouts} dtype={self.dtype} "
                 f"seed={self.seed} specials={self.specials}"]
        lines += [f"Step({s.op!r}, a={s.a}, b={s.b}, p={s.p}, q={s.q})," for s in self.steps]
        return "\n".join(lines)


shapes = st.lists(st.integers(1, 7), min_size=0, max_size=3).map(tuple)
programs = st.builds(
    Program,
    shapes=st.lists(shapes, min_size=1, max_size=3).map(tuple),
    layouts=st.lists(st.sampled_from(["contiguous", "strided", "transposed"]), min_size=3, max_size=3).map(tuple),
    dtype=st.sampled_from(["float64"] * 4 + ["float32"]),
    seed=st.integers(0, 2**16),
    specials=st.sampled_from([0, 0, 0, 1, 3]),
    steps=st.lists(
        st.builds(Step, op=st.sampled_from(STEPS), a=st.integers(0, 9), b=st.integers(0, 9),
                  p=st.integers(0, 63), q=st.integers(0, 63)),
        min_size=1, max_size=7,
    ).map(tuple),
    outputs=st.integers(1, 3),
)


def assert_same(out, ref, program: Program):
    assert len(out) == len(ref)
    for k, (o, r) in enumerate(zip(out, ref)):
        where = f"output {k} of\n{program.source()}"
        assert o.shape == r.shape and o.dtype == r.dtype, (o.shape, o.dtype, r.shape, r.dtype, where)
        if r.is_floating_point():
            finite = r[torch.isfinite(r)]
            scale = 1.0 + (finite.abs().max().item() if finite.numel() else 0.0)
            rtol = 1e-7 if r.dtype == torch.float64 else 1e-4
            torch.testing.assert_close(o, r, rtol=rtol, atol=rtol * scale, equal_nan=True, msg=lambda m: f"{m}\n{where}")
        else:
            assert torch.equal(o, r), f"{o} != {r}\n{where}"


def compiled(program: Program, inputs):
    torch._dynamo.reset()
    # Inductor's Triton code keeps float16/bfloat16 intermediates in float32
    # (stock Inductor on CUDA too) unless asked to round as eager does: ask,
    # so that ``x.to(torch.bfloat16).to(torch.float64)`` is compared exactly.
    with torch._inductor.config.patch(emulate_precision_casts=True):
        return torch.compile(program.run, dynamic=False)(*(x.clone() for x in inputs))


def check_program(program: Program) -> None:
    """Compile ``program.run`` with the extension backend and compare with eager.

    Where the result differs from eager, stock Inductor (its C++ backend)
    compiles the same program: if it gives the extension's result, the
    difference is Inductor's lowering against eager, not this backend
    (for example ``gelu(inf)``: eager on some CPUs gives NaN, Inductor's formula inf),
    and it is counted as a Hypothesis event instead of failing.
    """
    inputs = program.inputs()
    try:
        ref = program.run(*(x.clone() for x in inputs))
    except RuntimeError:  # a combination eager rejects (e.g. an op without this dtype)
        hypothesis.reject()
    with ext_codegen.registered("cpu"):
        out = compiled(program, inputs)
    try:
        assert_same(out, ref, program)
    except AssertionError:
        try:
            assert_same(out, compiled(program, inputs), program)
        except AssertionError:
            pass
        else:
            try:
                hypothesis.event("differs from eager exactly as stock Inductor does")
            except hypothesis.errors.InvalidArgument:  # called outside a Hypothesis test
                pass
            return
        raise


# Shrinking recompiles every candidate (about a second each): only on demand.
PHASES = tuple(hypothesis.Phase) if ON_DEMAND else (hypothesis.Phase.explicit, hypothesis.Phase.generate)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not ON_DEMAND, database=None, print_blob=True,
          phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(programs)
def test_random_graphs_match_eager(program):
    check_program(program)


def test_fuzz_vocabulary_runs_in_eager():
    """Every step kind runs on every input rank the fuzzer draws (a bad step would only waste examples)."""
    for rank in range(4):
        x = torch.randn([3, 4, 2][:rank] or [], dtype=torch.float64)
        for name in STEPS:
            program = Program(((3, 4, 2)[:rank],), ("contiguous",) * 3, "float64", 1, 0,
                              (Step(name, 0, 0, 5, 6),), 1)
            program.run(x)


def test_a_difference_shared_with_stock_inductor_is_not_this_backends():
    # Found by the fuzzer on the H100's host (torch 2.11): eager's cpu gelu gave
    # NaN for +inf, Inductor's lowering inf, in both backends.  Eager's result
    # depends on the CPU's vector code: on the AVX2 machines CI runs on, eager
    # gives inf too.  The program passes either way; where eager differs,
    # comparing against eager alone fails, and check_program passes only
    # because stock Inductor differs in the same way.
    program = Program(((2,),), ("contiguous",) * 3, "float32", 0, 3, (Step("gelu", 0, 0, 0, 0),), 1)
    (x,) = program.inputs()
    assert torch.isinf(x).any()
    ref = program.run(x.clone())
    with ext_codegen.registered("cpu"):
        out = compiled(program, [x])
    check_program(program)
    try:
        assert_same(out, ref, program)
    except AssertionError:
        return
    pytest.skip(f"eager's gelu agrees with Inductor's at inf on this CPU ({torch.backends.cpu.get_cpu_capability()}): "
                "no difference to attribute")
