"""Recording a launch for :mod:`.replay`: the builder calls the front end makes, and when to give up.

While the kernel's body runs, every public method of the interpreter's
builder class is wrapped so that a call from outside the builder is appended
to a :class:`Trace`: the method's name, its arguments
(blocks by their slot in the trace, everything else as it was) and the slots
of the blocks it returns.  The operations the interpreter computes above the
builder (``tl.reduce``, ``tl.associative_scan``, the package's sort) are
wrapped the same way and recorded as one call each; calls made from inside a
recorded call are not recorded (they run again inside it on replay).
:class:`Recorder` decides what may be recorded; the rules are listed in
:mod:`.replay`.

What :mod:`.replay` takes from here: :func:`record`, which returns a
:class:`Trace` or, when something escaped the record, an
:class:`AbandonedTrace` (the result kept for the key; inside the recorder the
escape is the exception :class:`Unrecordable`); the encodings of a recorded
call's arguments (:class:`EncodedHandle`, :class:`EncodedTensor`,
:class:`EncodedTuple`), which a replay decodes; and
:func:`operations_above_builder`, which says what such operations call.
"""

from __future__ import annotations

import inspect
import types

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp


class Unrecordable(Exception):
    """Raised while encoding a call whose arguments escape the record.

    The recorder catches it: the launch goes on unrecorded, and :func:`record`
    returns an :class:`AbandonedTrace` with the message as its reason.
    """


# A recorded call's arguments, encoded: blocks by their slot in the trace
# (the launch's argument blocks first, then every block a recorded call made),
# everything else as it was.


class EncodedHandle:
    """An interpreter ``TensorHandle`` argument: its slot."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class EncodedTuple:
    """A ``tl.tuple`` of encoded values."""

    __slots__ = ("values",)

    def __init__(self, values: list) -> None:
        self.values = values


class EncodedTensor:
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
        #: Builder calls computed from static values alone (constants, program
        #: ids, constexprs, scalar arguments: the key fixes them all), by index,
        #: and the blocks they made, by slot: a replay starts from those blocks
        #: instead of calling again (index arithmetic and masks, mostly).
        self.memoized: set[int] = set()
        self.memo: dict[int, object] = {}


class AbandonedTrace:
    """What a key keeps instead of a :class:`Trace` when its record was abandoned.

    The launches with that key run the kernel's body, and a later record is not tried.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason


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
                raise Unrecordable("a block made outside the builder")
            return EncodedHandle(slot)
        if isinstance(value, tl.core.tensor):
            return EncodedTensor(self.encode(value.handle).index, value.type)
        if isinstance(value, tl.core.tuple):
            return EncodedTuple([self.encode(v) for v in value.values])
        if type(value) in (list, tuple):
            return type(value)(self.encode(v) for v in value)
        if isinstance(value, _PLAIN) or isinstance(value, np.generic) or _is_enum(value):
            return value
        raise Unrecordable(f"an argument of type {type(value).__name__}")

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
        except Unrecordable as reason:
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
            made = _out_slots(outputs)
            self.static.update(made)
            if where == "builder":
                # the same blocks on every launch with this key: kept, not recomputed
                self.trace.memoized.add(len(self.trace.ops) - 1)
                self.trace.memo.update({slot: self.keep[slot] for slot in made})
        return result

    def decide(self, handle) -> None:
        """A Python decision on ``handle``'s value: allowed only where the key fixes that value."""
        if not self.depth and not self.abandoned and self.slots.get(id(handle)) not in self.static:
            self.abandoned = "a Python decision on a block's value"


def _refs(encoded) -> list[int]:
    """The slots an encoded argument refers to (plain values refer to none)."""
    if isinstance(encoded, (EncodedHandle, EncodedTensor)):
        return [encoded.index]
    if isinstance(encoded, EncodedTuple):
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


def _recorded_methods(builder, recorder: Recorder, scope) -> None:
    """Every public method of the builder's class, recorded when called from outside the builder.

    The class, not the semantic layer's reference to the builder, because
    Triton releases hold that reference differently (triton 3.8 one
    semantic object, triton 3.6 one per patched function); calls the
    builder's methods make to each other run inside a recorded call and are
    not recorded.
    """
    cls = type(builder)
    for name in dir(cls):
        if name.startswith("_") or name == "set_grid_dim":
            continue
        member = inspect.getattr_static(cls, name)
        if not isinstance(member, types.FunctionType):
            continue
        scope.set_attr(cls, name, _recorded(recorder, name, member))


def _recorded(recorder: Recorder, name: str, function):
    def method(self, *args, **kwargs):
        return recorder.call("builder", name, lambda *a, **k: function(self, *a, **k), args, kwargs)

    return method


def operations_above_builder():
    """The operations computed above the builder, as ``(where, owner, name)``: each is recorded as one call.

    ``tl.reduce``, ``tl.associative_scan`` and Inductor's ``sort_with_index``
    run Python over whole blocks; recording them as one call each keeps a
    replay from re-running their Python bodies.
    """
    from torch._inductor.runtime import triton_helpers

    from .gaps.jit_helpers import interpretable

    return [("tl", tl, "reduce"), ("core", tl.core, "reduce"), ("tl", tl, "associative_scan"),
            ("core", tl.core, "associative_scan"), ("helpers", interpretable(triton_helpers), "sort_with_index")]


def _needs_language(where: str, name: str, args, kwargs) -> bool:
    """Whether replaying this operation above the builder calls Python over ``tl`` blocks."""
    from .gaps import reductions, scans, sorting

    if where == "helpers":
        return not sorting.ENABLED
    combine_fn = args[2] if len(args) > 2 else kwargs.get("combine_fn")
    if name == "reduce":
        return reductions.needs_language(combine_fn) if where == "tl" else not any(
            combine_fn is f for f in reductions.language_combine_functions())
    if where == "tl":
        return scans.needs_language(combine_fn, args[0] if args else kwargs.get("input"))
    return True  # the interpreter's own scan computes sums and products only when told so by its combine function


def record(builder, handles: list, scalars: set[int], body) -> "Trace | AbandonedTrace":
    """Run ``body`` (the kernel over the grid) once and return its trace, or why it was abandoned."""
    recorder = Recorder(handles, scalars)
    # the recording's own patches, undone as soon as the body has run
    scope = interp._LangPatchScope()
    _recorded_methods(builder, recorder, scope)
    for where, owner, name in operations_above_builder():
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
        return AbandonedTrace(recorder.abandoned)
    return recorder.trace
