"""A launch's builder calls recorded once and replayed, without Triton's front end.

Most of a small kernel's time in the interpreter is Triton's front end: each
``tl`` operation checks types, broadcasts and wraps before the interpreter's
builder does the numpy work (about 40 µs an operation, against a few µs of
numpy for a 64×512 block).  What the front end decides depends only on
types, shapes and Python values, never on the data.  So the first launch of
a kernel with a given *key* (its constexprs, grid, scalar arguments, pointer
types, compile checks and the package's switches) runs as always while every
call the front end makes into the builder is recorded: the method's name,
its arguments (blocks by their place in the trace, everything else as it
was) and the blocks it returns.  Later launches with the same key call the
same builder methods in the same order on the new arguments' blocks, and
skip the kernel's Python body and the front end entirely.

Replay is exact: the same builder methods (the interpreter's, with the
package's gaps and fast paths installed for the launch as usual) run on the
same kinds of operands, so every result is bit for bit what the body would
have computed.  A trace is only kept when nothing escapes the record:

* every block a recorded call receives was a kernel argument or came out of
  an earlier recorded call; any other block (made by code outside the
  builder) abandons the record;
* a Python decision on a block's value (``if``, ``range``, ``int``) is only
  allowed on scalar arguments, which are part of the key;
* arguments that are not blocks must be plain values (numbers, strings,
  Triton types, functions); anything else abandons the record.

Operations the interpreter computes above the builder (``tl.reduce``,
``tl.associative_scan``, the sort of :mod:`.gaps.sorting`) are recorded as
one call each.  A kernel whose record was abandoned runs its body on every
launch, as before.  :data:`CHECK` makes every replay also run the body on
copies of the arguments and compare all of them bit for bit (the tests run
with it).
"""

from __future__ import annotations

import os
import types
from typing import Any

import numpy as np

from .. import compat

tl = compat.triton_language()
interp = compat.triton_interpreter()

#: Switch replay off (every launch runs the kernel's body).
ENABLED = True
#: Verify every trace: each recording is replayed from the same inputs and each
#: replay also runs the body, and all tensor arguments must agree bit for bit
#: (slow; ``EXT_CODEGEN_REPLAY_CHECK=1`` turns it on, the tests do).
CHECK = os.environ.get("EXT_CODEGEN_REPLAY_CHECK") == "1"

#: Replayed and recorded launches, records abandoned (with the reason of the
#: last) and replays that needed no patch of ``triton.language``.
stats = {"replayed": 0, "recorded": 0, "abandoned": 0, "without_language": 0}
last_abandoned: str | None = None

_traces: dict[Any, "Trace | _Abandoned"] = {}
_MAX_TRACES = 4096


class Abandon(Exception):
    """Something in the launch escaped the record: the launch goes on, its trace is not kept."""


class _Slot:
    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Tuple:
    """A ``tl.tuple`` of encoded values."""

    __slots__ = ("values",)

    def __init__(self, values: list) -> None:
        self.values = values


class _Block:
    """A ``tl.tensor`` argument of an operation above the builder: its handle's slot and its type."""

    __slots__ = ("index", "type")

    def __init__(self, index: int, type_) -> None:
        self.index, self.type = index, type_


_PLAIN = (type(None), bool, int, float, str, complex, tl.dtype, tl.constexpr, type, np.dtype,
          types.FunctionType, types.BuiltinFunctionType, interp.InterpretedFunction)


def _is_enum(value) -> bool:
    """Triton's C++ enums (cache modifiers, eviction policies, rounding modes): plain values."""
    cls = type(value)
    return hasattr(cls, "__members__") and (cls.__module__ or "").startswith(("triton", "enum"))


class Trace:
    """The builder calls of one launch: ``(where, name, args, kwargs, outputs)`` each."""

    def __init__(self, inputs: list[int]) -> None:
        self.ops: list[tuple] = []
        self.inputs = inputs
        self.size = len(inputs)
        self.compiled: list[tuple] | None = None
        #: Whether replaying it needs ``triton.language`` patched: an operation
        #: above the builder calls a combine function, or the bitonic sort runs.
        self.needs_language = False


class Recorder:
    """Builds a :class:`Trace` while the kernel's body runs."""

    def __init__(self, handles: list, scalars: set[int]) -> None:
        self.trace = Trace(list(range(len(handles))))
        self.slots = {id(h): i for i, h in enumerate(handles)}
        self.keep = list(handles)  # ids stay unique while recording
        # Slots whose value the key decides: scalar arguments, and what recorded
        # calls compute from them and from plain values alone (constants,
        # program ids); a Python decision on one of them is the same on every
        # launch with the key (``other.handle if other else None`` in tl.load).
        self.static = set(scalars)
        self.depth = 0
        #: Why the record was abandoned (``None`` while it holds).
        self.abandoned: str | None = None

    def encode(self, value):
        if isinstance(value, interp.TensorHandle):
            slot = self.slots.get(id(value))
            if slot is None:
                raise Abandon("a block made outside the builder")
            return _Slot(slot)
        if isinstance(value, tl.core.tensor):
            return _Block(self.encode(value.handle).index, value.type)
        if isinstance(value, tl.core.tuple):
            return _Tuple([self.encode(v) for v in value.values])
        if type(value) in (list, tuple):
            return type(value)(self.encode(v) for v in value)
        if isinstance(value, _PLAIN) or isinstance(value, np.generic) or _is_enum(value):
            return value
        raise Abandon(f"an argument of type {type(value).__name__}")

    def outputs(self, result):
        if isinstance(result, interp.TensorHandle):
            return self._new(result)
        if isinstance(result, tl.core.tensor):
            return self._new(result.handle)
        if isinstance(result, tl.core.tuple):
            result = result.values
        if isinstance(result, (list, tuple)) and any(isinstance(r, (interp.TensorHandle, tl.core.tensor)) for r in result):
            return tuple(self.outputs(r) for r in result)
        return None

    def _new(self, handle) -> int:
        slot = self.trace.size
        self.trace.size += 1
        self.slots[id(handle)] = slot
        self.keep.append(handle)
        return slot

    def call(self, where: str, name: str, fn, args, kwargs):
        """Run ``fn`` and record it, unless it was called from inside another recorded call.

        Once the record is abandoned the launch goes on unrecorded: the body
        must run to its end exactly once, whatever happened to its record.
        """
        if self.depth or self.abandoned:
            return fn(*args, **kwargs)
        try:
            encoded = (self.encode(args), {k: self.encode(v) for k, v in kwargs.items()})
        except Abandon as reason:
            self.abandoned = str(reason)
            return fn(*args, **kwargs)
        self.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        outputs = self.outputs(result)
        self.trace.ops.append((where, name, encoded[0], encoded[1], outputs))
        if where != "builder" and where != "grid" and _needs_language(where, name, args, kwargs):
            self.trace.needs_language = True
        if outputs is not None and all(s in self.static for s in _refs(encoded)):
            self.static.update(_out_slots(outputs))
        return result

    def decide(self, handle) -> None:
        """A Python decision on ``handle``'s value: allowed on scalar arguments only."""
        if not self.depth and not self.abandoned and self.slots.get(id(handle)) not in self.static:
            self.abandoned = "a Python decision on a block's value"


def _refs(encoded) -> list[int]:
    """The slots an encoded argument refers to (plain values refer to none)."""
    if isinstance(encoded, (_Slot, _Block)):
        return [encoded.index]
    if isinstance(encoded, _Tuple):
        return [i for v in encoded.values for i in _refs(v)]
    if isinstance(encoded, dict):
        return [i for v in encoded.values() for i in _refs(v)]
    if type(encoded) in (list, tuple):
        return [i for v in encoded for i in _refs(v)]
    return []


def _out_slots(outputs) -> list[int]:
    """The slots a call's outputs went to (a slot number, or a tuple of them and ``None``)."""
    if isinstance(outputs, int):
        return [outputs]
    return [i for o in outputs or () for i in _out_slots(o)]


class _RecordingBuilder:
    """Stands in for the builder in Triton's semantic layer while recording."""

    def __init__(self, builder, recorder: Recorder) -> None:
        self._builder, self._recorder = builder, recorder

    def __getattr__(self, name):
        member = getattr(self._builder, name)
        if not callable(member):
            return member
        recorder = self._recorder

        def recorded(*args, **kwargs):
            return recorder.call("builder", name, member, args, kwargs)

        return recorded


# Operations computed above the builder: (module, attribute) pairs, recorded as one call each.
def _above_builder():
    from torch._inductor.runtime import triton_helpers

    from .gaps.jit_helpers import interpretable

    return [("tl", tl, "reduce"), ("core", tl.core, "reduce"), ("tl", tl, "associative_scan"),
            ("core", tl.core, "associative_scan"), ("helpers", interpretable(triton_helpers), "sort_with_index")]


def _target(where: str, name: str):
    """What a recorded operation above the builder calls on replay, with or without the language patch.

    ``tl.reduce`` and ``tl.associative_scan`` are the package's (set by
    :func:`.gaps.install` for every launch), ``tl.core``'s are the
    interpreter's own reductions and scans, called directly, and the sort is
    the helper the interpreted ``triton_helpers`` module holds for the launch.
    """
    from .gaps import reductions, scans

    if where == "helpers":
        return getattr(_above_builder()[-1][1], name)
    if where == "tl":
        return reductions.reduce if name == "reduce" else scans.associative_scan
    if name == "reduce":
        return lambda input, axis, combine_fn, keep_dims=False, **_: interp.ReduceOps(
            axis, combine_fn, keep_dims).apply(input)
    return lambda input, axis, combine_fn, reverse=False, **_: interp.ScanOps(axis, combine_fn, reverse).apply(input)


def _needs_language(where: str, name: str, args, kwargs) -> bool:
    """Whether replaying this operation above the builder calls Python over ``tl`` blocks."""
    from .gaps import reductions, scans, sorting

    if where == "helpers":
        return not sorting.ENABLED
    combine_fn = args[2] if len(args) > 2 else kwargs.get("combine_fn")
    if name == "reduce":
        return reductions.needs_language(combine_fn) if where == "tl" else not any(
            combine_fn is f for f in reductions._numpy_in_triton())
    if where == "tl":
        return scans.needs_language(combine_fn, args[0] if args else kwargs.get("input"))
    return True  # the interpreter's own scan computes sums and products only when told so by its combine function


def record(builder, handles: list, scalars: set[int], body) -> "Trace | _Abandoned":
    """Run ``body`` (the kernel over the grid) and return its trace, or ``None`` if abandoned."""
    global last_abandoned
    recorder = Recorder(handles, scalars)
    # the recording's own patches, undone as soon as the body has run
    scope = interp._LangPatchScope()
    scope.set_attr(interp.interpreter_semantic, "builder", _RecordingBuilder(builder, recorder))
    for where, owner, name in _above_builder():
        member = getattr(owner, name, None)
        if member is None or not callable(member):
            continue
        scope.set_attr(owner, name, lambda *a, _m=member, _w=where, _n=name, **k: recorder.call(_w, _n, _m, a, k))
    for cls, name in ((tl.core.tensor, "__bool__"), (tl.core.tensor, "__index__")):
        original = getattr(cls, name)
        scope.set_attr(cls, name, lambda self, _o=original: (recorder.decide(self.handle), _o(self))[1])
    handle_bool = interp.TensorHandle.__bool__
    scope.set_attr(interp.TensorHandle, "__bool__", lambda self: (recorder.decide(self), handle_bool(self))[1])
    try:
        body(lambda x, y, z: recorder.call("grid", "set_grid_idx", builder.set_grid_idx, (x, y, z), {}))
    finally:
        scope.restore()
    if recorder.abandoned:
        stats["abandoned"] += 1
        last_abandoned = recorder.abandoned
        return _Abandoned(recorder.abandoned)
    stats["recorded"] += 1
    return recorder.trace


class _Abandoned:
    """A key whose record was abandoned: the body runs, and a later record is not tried."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _decode(value, slots):
    if isinstance(value, _Slot):
        return slots[value.index]
    if isinstance(value, _Block):
        return tl.core.tensor(slots[value.index], value.type)
    if isinstance(value, _Tuple):
        return tl.core.tuple([_decode(v, slots) for v in value.values])
    if type(value) in (list, tuple):
        return type(value)(_decode(v, slots) for v in value)
    return value


def _store(out, result, slots) -> None:
    if out is None:
        return
    if isinstance(out, int):
        slots[out] = result.handle if isinstance(result, tl.core.tensor) else result
        return
    if isinstance(result, tl.core.tuple):
        result = result.values
    for o, r in zip(out, result):
        _store(o, r, slots)


def _is_pure_type_query(where: str, name: str, out) -> bool:
    """``get_int32_ty()``, ``get_block_ty(...)``: answers the front end needed, with no block and no effect."""
    return where == "builder" and out is None and name.startswith("get_") and name.endswith("_ty")


def _plain_args(args) -> bool:
    return all(isinstance(a, _Slot) or not isinstance(a, (_Block, _Tuple, list, tuple)) for a in args)


def _compile(trace: Trace) -> list[tuple]:
    """The ops to replay: type queries dropped, flat argument lists marked for the quick path."""
    ops = []
    for where, name, args, kwargs, out in trace.ops:
        if _is_pure_type_query(where, name, out):
            continue
        flat = not kwargs and _plain_args(args)
        slots = [(a.index if isinstance(a, _Slot) else None, a) for a in args] if flat else None
        ops.append((where, name, args, kwargs, out, slots))
    return ops


def replay(trace: Trace, builder, handles: list) -> None:
    """Call the trace's builder methods again on ``handles`` (the new launch's arguments)."""
    slots: list = [None] * trace.size
    slots[:len(handles)] = handles
    if trace.compiled is None:
        trace.compiled = _compile(trace)
    for where, name, args, kwargs, out, flat in trace.compiled:
        target = getattr(builder, name) if where == "builder" or where == "grid" else _target(where, name)
        if flat is not None:
            result = target(*[a if i is None else slots[i] for i, a in flat])
        else:
            result = target(*_decode(args, slots), **{k: _decode(v, slots) for k, v in kwargs.items()})
        if out is not None:
            if type(out) is int:
                slots[out] = result.handle if isinstance(result, tl.core.tensor) else result
            else:
                _store(out, result, slots)


def key_of(jit_fn, call_args: dict, constexprs: set, grid, switches):
    """The launch's key, its argument blocks in order, and which of them are scalars."""
    parts, handles, scalars = [], [], set()
    for name, value in call_args.items():
        if name in constexprs or not isinstance(value, tl.core.tensor):
            plain = isinstance(value, (type(None), bool, int, float, str, tl.dtype))
            parts.append((name, value if plain else repr(value)))
            continue
        if not value.type.is_ptr():
            scalars.add(len(handles))
            parts.append((name, str(value.type), value.handle.data.tobytes()))
        else:
            parts.append((name, str(value.type)))
        handles.append(value.handle)
    return (jit_fn, tuple(parts), tuple(grid), switches), handles, scalars


class Launch:
    """One launch as replay sees it: recorded already (replayed), abandoned (the body runs) or new (recorded)."""

    def __init__(self, key, handles: list, scalars: set, name: str) -> None:
        self.key, self.handles, self.scalars, self.name = key, handles, scalars, name
        self.trace = _traces.get(key)
        #: Whether the launch needs no patch of ``triton.language``: a replay of
        #: builder calls and of operations computed with numpy alone.
        self.builder_only = isinstance(self.trace, Trace) and not self.trace.needs_language and not CHECK

    def run(self, body, builder, scope, tensors: list) -> None:
        trace = self.trace
        if trace is None:
            before = [m.clone() for m in _memory(tensors)] if CHECK else None
            trace = record(builder, self.handles, self.scalars, body)
            if len(_traces) >= _MAX_TRACES:
                _traces.clear()
            _traces[self.key] = trace
            if CHECK and isinstance(trace, Trace):
                _compare(self.name, tensors, before, lambda: replay(trace, builder, self.handles), "its recording")
            return
        if isinstance(trace, _Abandoned):
            body(builder.set_grid_idx)
            return
        stats["replayed"] += 1
        stats["without_language"] += self.builder_only
        if not CHECK:
            replay(trace, builder, self.handles)
            return
        before = [m.clone() for m in _memory(tensors)]
        replay(trace, builder, self.handles)
        _compare(self.name, tensors, before, lambda: body(builder.set_grid_idx), "its body")


def _memory(tensors: list) -> list:
    """The distinct storages behind the tensor arguments, each as a flat byte tensor."""
    import torch

    seen, flat = set(), []
    for t in tensors:
        storage = t.untyped_storage()
        if storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            flat.append(torch.empty(0, dtype=torch.uint8, device=t.device).set_(storage))
    return flat


def _compare(name: str, tensors: list, before: list, again, what: str) -> None:
    """Keep what the launch wrote, rerun it from ``before`` with ``again``, require the same bytes."""
    import torch

    memory = _memory(tensors)
    first = [m.clone() for m in memory]
    for m, b in zip(memory, before):
        m.copy_(b)
    again()
    for i, (m, f) in enumerate(zip(memory, first)):
        if not torch.equal(m, f):
            raise AssertionError(f"the replay of kernel {name} differs from {what} in the memory of argument {i}")


def lookup(jit_fn, call_args: dict, constexprs: set, grid, switches) -> Launch:
    """The :class:`Launch` of ``jit_fn`` with these arguments."""
    key, handles, scalars = key_of(jit_fn, call_args, constexprs, grid, switches)
    return Launch(key, handles, scalars, getattr(jit_fn, "__name__", str(jit_fn)))


def reset() -> None:
    """Forget every trace (the tests start from a clean state)."""
    _traces.clear()
