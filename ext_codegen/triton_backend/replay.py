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
  allowed where the key fixes that value: scalar arguments, and what is
  computed from them, constants and program ids alone;
* arguments that are not blocks must be plain values (numbers, strings,
  Triton types, functions); anything else abandons the record.

Builder calls computed from such fixed values alone (index arithmetic,
masks) are not repeated: a replay starts from the blocks they made.
Operations the interpreter computes above the builder (``tl.reduce``,
``tl.associative_scan``, the sort of :mod:`.gaps.sorting`) are recorded as
one call each.  A kernel whose record was abandoned runs its body on every
launch, as before.  A new trace is replayed once from the recorded launch's
inputs and kept only if it writes the body's bytes
(``Launch._verified``); :data:`CHECK` makes every later replay also run
the body and compare the arguments' memory bit for bit (the tests run with
it).
"""

from __future__ import annotations

import os
from typing import Any

import triton.language as tl
from triton.runtime import interpreter as interp

from .recording import (AbandonedTrace, EncodedHandle, EncodedTensor, EncodedTuple, Trace, operations_above_builder,
                        record)

#: Switch replay off (every launch runs the kernel's body).
ENABLED = True
#: Verify every replay too: each replay also runs the body, and all tensor
#: arguments must agree bit for bit, or ``AssertionError`` (slow;
#: ``EXT_CODEGEN_REPLAY_CHECK=1`` turns it on, the tests do).  Every new trace
#: is verified once whatever this says (``Launch._verified``).
CHECK = os.environ.get("EXT_CODEGEN_REPLAY_CHECK") == "1"

#: Replayed and recorded launches, records abandoned (with the reason of the
#: last) and replays that needed no patch of ``triton.language``.
stats = {"replayed": 0, "recorded": 0, "abandoned": 0, "without_language": 0}
last_abandoned: str | None = None

_traces: dict[Any, "Trace | AbandonedTrace"] = {}
_MAX_TRACES = 4096


def _target(where: str, name: str):
    """What a recorded operation above the builder calls on replay, with or without the language patch.

    ``tl.reduce`` and ``tl.associative_scan`` are the package's (set by
    :func:`.gaps.install` for every launch), ``tl.core``'s are the
    interpreter's own reductions and scans, called directly, and the sort is
    the helper the interpreted ``triton_helpers`` module holds for the launch.
    """
    from .gaps import reductions, scans, sorting

    if where == "helpers":
        return sorting.sort_with_index if sorting.ENABLED else getattr(operations_above_builder()[-1][1], name)
    if where == "tl":
        return reductions.reduce if name == "reduce" else scans.associative_scan
    if name == "reduce":
        return lambda input, axis, combine_fn, keep_dims=False, **_: interp.ReduceOps(
            axis, combine_fn, keep_dims).apply(input)
    return lambda input, axis, combine_fn, reverse=False, **_: interp.ScanOps(axis, combine_fn, reverse).apply(input)


def _count(trace) -> None:
    global last_abandoned
    if isinstance(trace, AbandonedTrace):
        stats["abandoned"] += 1
        last_abandoned = trace.reason
    else:
        stats["recorded"] += 1


def _decode(value, slots):
    if isinstance(value, EncodedHandle):
        return slots[value.index]
    if isinstance(value, EncodedTensor):
        return tl.core.tensor(slots[value.index], value.type)
    if isinstance(value, EncodedTuple):
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
    return all(isinstance(a, EncodedHandle) or not isinstance(a, (EncodedTensor, EncodedTuple, list, tuple))
               for a in args)


def _compile(trace: Trace) -> list[tuple]:
    """The ops to replay: type queries dropped, flat argument lists marked for the quick path,
    operations above the builder resolved to what they call."""
    ops = []
    for index, (where, name, args, kwargs, out) in enumerate(trace.ops):
        if _is_pure_type_query(where, name, out) or index in trace.memoized:
            continue
        flat = not kwargs and _plain_args(args)
        slots = [(a.index if isinstance(a, EncodedHandle) else None, a) for a in args] if flat else None
        # builder methods are looked up per replay (the launch patches them); the rest is fixed by the key
        target = None if where in ("builder", "grid") else _target(where, name)
        ops.append((where, name, args, kwargs, out, slots, target))
    return ops


def replay(trace: Trace, builder, handles: list) -> None:
    """Call the trace's builder methods again on ``handles`` (the new launch's arguments)."""
    if trace.compiled is None:
        trace.compiled = _compile(trace)
        trace.start = [trace.memo.get(i) for i in range(trace.size)]
    slots = list(trace.start)
    slots[:len(handles)] = handles
    for where, name, args, kwargs, out, flat, target in trace.compiled:
        if target is None:
            target = getattr(builder, name)
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
            before = [m.clone() for m in _memory(tensors)]
            trace = record(builder, self.handles, self.scalars, body)
            if isinstance(trace, Trace):
                trace = self._verified(trace, builder, tensors, before)
            _count(trace)
            if len(_traces) >= _MAX_TRACES:
                _traces.clear()
            _traces[self.key] = trace
            return
        if isinstance(trace, AbandonedTrace):
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


    def _verified(self, trace: Trace, builder, tensors: list, before: list):
        """``trace``, once a replay from the launch's inputs gave the body's bytes; else an abandoned record.

        Every new trace is checked this way, once: a builder call the record
        missed (a Triton release that reaches its builder another way) must
        not turn into a replay that computes something else.  The launch
        keeps the body's results either way.
        """
        counters = _counters()
        kept = [dict(c) for c in counters]  # the check is not the launch's work: it counts nothing
        try:
            _compare(self.name, tensors, before, lambda: replay(trace, builder, self.handles), "its recording")
        except ReplayMismatch as mismatch:
            if CHECK:
                raise
            memory = _memory(tensors)
            for m, b in zip(memory, mismatch.body):
                m.copy_(b)
            return AbandonedTrace(str(mismatch))
        finally:
            for counter, values in zip(counters, kept):
                counter.update(values)
        return trace


def _counters() -> list[dict]:
    """The counters a launch's work adds to (fast paths, scans)."""
    from . import fastpath
    from .gaps import scans

    return [fastpath.stats, scans.stats]


class ReplayMismatch(AssertionError):
    """A replay's bytes differ from the body's: ``body`` holds what the body wrote."""

    def __init__(self, message: str, body: list) -> None:
        super().__init__(message)
        self.body = body


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
            raise ReplayMismatch(f"the replay of kernel {name} differs from {what} in the memory of argument {i}",
                                 first)


def lookup(jit_fn, call_args: dict, constexprs: set, grid, switches) -> Launch:
    """The :class:`Launch` of ``jit_fn`` with these arguments."""
    key, handles, scalars = key_of(jit_fn, call_args, constexprs, grid, switches)
    return Launch(key, handles, scalars, getattr(jit_fn, "__name__", str(jit_fn)))


def reset() -> None:
    """Forget every trace (the tests start from a clean state)."""
    _traces.clear()
