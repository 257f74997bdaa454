"""Replayed launches (``triton_backend.replay``) give the kernel body's bits, and replay only when that is sure.

With ``replay.CHECK`` on, every recording is replayed from the same inputs and
every replay also runs the body, and all memory the launch can write must
agree bit for bit; the compiled results are compared with eager in float64 on
fresh inputs for each call, so a trace that were wrong for new data would show.
"""

from __future__ import annotations

import pytest
import torch
import triton
import triton.language as tl

from tests.helpers import assert_identical, assert_same, backend_registered, on_interpreter, skip_on_gpu_host
from ext_codegen.triton_backend import launch, replay

#: these tests are about the interpreter's own machinery: every kernel in them runs interpreted
pytestmark = pytest.mark.usefixtures("interpreted")


@pytest.fixture
def checked(ext_cpu):
    replay.reset()
    replay.CHECK = True
    try:
        yield replay.stats
    finally:
        replay.CHECK = False


def _calls(fn, make, calls=3):
    """Compile ``fn``, call it on ``calls`` fresh inputs, compare each with eager in float64."""
    compiled = torch.compile(fn)
    before = dict(replay.stats)
    for _ in range(calls):
        args = make()
        out = compiled(*args)
        ref = fn(*(a.double() if a.is_floating_point() else a for a in args))
        bf16 = any(t.dtype == torch.bfloat16 for t in torch.utils._pytree.tree_leaves(out))
        tolerance = 2e-2 if bf16 else 1e-4
        assert_same(out, ref, atol=tolerance, rtol=tolerance)
    return {k: v - before[k] for k, v in replay.stats.items()}


CASES = {
    "pointwise": (lambda x: (x.sin() * 2 + x.cos()).relu(), lambda: (torch.randn(5000),)),
    "looped_reduction": (lambda x: x.sum(0), lambda: (torch.randn(512, 96),)),
    "softmax": (lambda x: torch.softmax(x, -1), lambda: (torch.randn(64, 300),)),
    "layer_norm": (lambda x, w: torch.nn.functional.layer_norm(x, (128,), w), lambda: (torch.randn(32, 128), torch.randn(128))),
    "cumsum": (lambda x: x.cumsum(1), lambda: (torch.randn(16, 100),)),
    "cummax": (lambda x: x.cummax(1), lambda: (torch.randn(16, 100).round(),)),
    "sort": (lambda x: x.sort(dim=1, stable=True), lambda: (torch.randn(16, 100).round(),)),
    "argmax": (lambda x: x.argmax(1), lambda: (torch.randn(16, 100),)),
    "gather_scatter": (lambda x, i: torch.zeros_like(x).index_add(0, i, x[i] * 2),
                       lambda: (torch.randn(64), torch.randint(0, 64, (200,)))),
    "bf16": (lambda x: (x * 3).exp(), lambda: (torch.randn(1000).bfloat16(),)),
}


@pytest.mark.parametrize("name", CASES)
def test_replays_match_the_body_and_eager(checked, name):
    fn, make = CASES[name]
    taken = _calls(fn, make)
    assert taken["recorded"] >= 1 and taken["replayed"] >= 2 * taken["recorded"] and taken["abandoned"] == 0, taken


def _since(before):
    return {k: v - before[k] for k, v in replay.stats.items() if k != "without_language"}


@pytest.mark.parametrize("name", CASES)
def test_replays_without_the_language_patch_are_bit_for_bit(ext_cpu, name):
    """Unchecked replays skip the language patch where no combine function is called: same bits."""
    fn, make = CASES[name]
    args = make()
    compiled = torch.compile(fn)
    replay.ENABLED = False
    try:
        plain = compiled(*args)
    finally:
        replay.ENABLED = True
    replay.reset()
    compiled(*args)
    before = dict(replay.stats)
    again = compiled(*args)
    assert replay.stats["replayed"] > before["replayed"]
    if name not in ("cummax",):  # a selecting scan calls its combine function: the language stays patched
        assert replay.stats["without_language"] > before["without_language"], name
    assert_identical(plain, again)


def test_dynamic_shapes_keep_one_trace_per_size(checked):
    before = dict(replay.stats)
    compiled = torch.compile(lambda x: x * 2 + 1, dynamic=True)
    for n in (100, 300, 100, 300):
        x = torch.randn(n)
        torch.testing.assert_close(compiled(x), x * 2 + 1)
    assert _since(before) == {"recorded": 2, "replayed": 2, "abandoned": 0}


@triton.jit
def _branch_on_scalar(x_ptr, y_ptr, n, flip, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    m = offs < n
    v = tl.load(x_ptr + offs, m)
    if flip > 0:  # a Python decision on a scalar argument: part of the key
        v = -v
    tl.store(y_ptr + offs, v, m)


@triton.jit
def _branch_on_data(x_ptr, y_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    v = tl.load(x_ptr + offs)
    first = tl.load(x_ptr)
    if first > 0:  # a Python decision on loaded data: never replayed
        v = v * 2
    tl.store(y_ptr + offs, v)


def test_a_decision_on_a_scalar_argument_is_keyed(checked):
    before = dict(replay.stats)
    x = torch.randn(100)
    for flip in (1, 0, 1, 0):
        y = torch.empty_like(x)
        with on_interpreter():
            _branch_on_scalar[(1,)](x, y, 100, flip, BLOCK=128)
        assert torch.equal(y, -x if flip else x)
    assert _since(before) == {"recorded": 2, "replayed": 2, "abandoned": 0}


def test_a_decision_on_data_abandons_the_record(checked):
    """The launch that found out runs to its end; later launches run their body."""
    before = dict(replay.stats)
    for sign in (1.0, -1.0, 1.0):
        x = torch.randn(16).abs() * sign
        y = torch.empty_like(x)
        with on_interpreter():
            _branch_on_data[(1,)](x, y, BLOCK=16)
        assert torch.equal(y, x * 2 if sign > 0 else x)
    assert _since(before) == {"recorded": 0, "replayed": 0, "abandoned": 1}
    assert replay.last_abandoned == "a Python decision on a block's value"


def test_replay_is_bit_for_bit_the_unreplayed_result(ext_cpu, gen):
    x = torch.randn(256, 300, generator=gen)
    compiled = torch.compile(lambda x: (torch.softmax(x, -1).cumsum(-1), x.sort(0).values, x.var(1)))
    replay.ENABLED = False
    try:
        plain = compiled(x)
    finally:
        replay.ENABLED = True
    replay.reset()
    compiled(x)
    before = replay.stats["replayed"]
    replayed = compiled(x)
    assert replay.stats["replayed"] > before
    assert_identical(plain, replayed)


def test_no_replay_while_an_instrument_is_on(ext_cpu):
    seen = []

    def instrument(kernel, fn, args, scope, builder):
        def each(**kwargs):
            seen.append(kernel.__name__)
            return fn(**kwargs)

        return each, None

    compiled = torch.compile(lambda x: x.exp())
    x = torch.randn(100)
    compiled(x)
    compiled(x)
    launch.instruments.append(instrument)
    try:
        torch.testing.assert_close(compiled(x), x.exp())
    finally:
        launch.instruments.remove(instrument)
    assert seen and seen[0].startswith("triton_")


@skip_on_gpu_host
def test_replays_on_extdev(checked):
    with backend_registered("extdev"):
        _softmax_on_extdev()


def _softmax_on_extdev():
    compiled = torch.compile(lambda x: torch.softmax(x, -1) * 2)
    for _ in range(3):
        x = torch.randn(32, 100)
        out = compiled(x.to("extdev"))
        assert out.device.type == "extdev"
        torch.testing.assert_close(out.cpu(), torch.softmax(x, -1) * 2)
    assert replay.stats["replayed"] >= 2


def test_a_record_that_missed_the_builder_is_caught_by_its_first_replay(ext_cpu, monkeypatch):
    """The failure seen with triton 3.6 before the recording wrapped the builder's class: nothing recorded.

    Planted here by recording no builder method at all: the first launch's
    verifying replay differs from the body, the record is abandoned, and
    every launch keeps the body's results.
    """
    from ext_codegen.triton_backend import recording

    monkeypatch.setattr(recording, "_recorded_methods", lambda builder, recorder, scope: None)
    replay.reset()
    before = dict(replay.stats)
    compiled = torch.compile(lambda x: x * 3 - 1)
    for _ in range(3):
        x = torch.randn(1000)
        torch.testing.assert_close(compiled(x), x * 3 - 1)
    assert _since(before) == {"recorded": 0, "replayed": 0, "abandoned": 1}
    assert "differs from its recording" in replay.last_abandoned
