"""Watch values: a kernel's chosen variables, recorded per launch and program, without a debugger.

``tl.device_print`` shows a value only if you edit the kernel; Inductor
writes the kernel anew at every compilation.  :func:`watch` instead traces
the kernel's frame (``sys.settrace``, only while a matching kernel's program
runs) and, as each program instance returns, copies the watched locals:
``xindex``, ``xmask``, ``tmp3`` as numpy arrays with the Triton dtype they
had.  The records are plain data, for a test to assert on or a person to
print.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys

import numpy as np

from .instrument import installed, interpreted, matches, no_match


@dataclasses.dataclass
class Watched:
    """One variable of one program instance of one launch."""

    kernel: str
    launch: int  # the how-many-th launch of a matching kernel in the block, from 0
    program: tuple[int, int, int]
    name: str
    value: np.ndarray
    dtype: str  # the Triton dtype (``fp32``, ``int1``, ``pointer<fp32>``)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"<{self.kernel} launch {self.launch} program {self.program}: {self.name} {self.dtype}{list(self.shape)}>"


def _as_array(value):
    """A copy of a kernel local as ``(array, dtype name)``, or ``None`` for what is not a value."""
    handle = getattr(value, "handle", None)
    if handle is not None and hasattr(handle, "data"):
        return np.array(handle.data, copy=True), str(getattr(value, "dtype", handle.dtype))
    inner = getattr(value, "value", value)  # tl.constexpr
    if isinstance(inner, (bool, int, float)):
        return np.asarray(inner), type(inner).__name__
    return None


class Watch:
    """A launcher instrument that records ``names`` of the kernels matching ``pattern``."""

    def __init__(self, pattern: str, names, echo=None) -> None:
        self.pattern, self.names = pattern, tuple(names)
        self.echo = echo
        #: Every recorded value, in the order the programs ran.
        self.records: list[Watched] = []
        self.launches = 0

    def values(self, name: str, kernel: str | None = None) -> list[np.ndarray]:
        """The recorded arrays of variable ``name`` (of ``kernel`` only, if given), in order."""
        return [r.value for r in self.records if r.name == name and kernel in (None, r.kernel)]

    def __call__(self, kernel, fn, args, scope, builder):
        if not matches(self.pattern, kernel.__name__):
            return fn, None
        launch, code, names = self.launches, fn.__code__, self.names
        self.launches += 1

        def record(frame):
            program = tuple(builder.grid_idx)
            for name in names:
                if name in frame.f_locals:
                    got = _as_array(frame.f_locals[name])
                    if got is not None:
                        entry = Watched(kernel.__name__, launch, program, name, *got)
                        self.records.append(entry)
                        if self.echo is not None:
                            print(f"{entry!r} = {np.array2string(entry.value, threshold=20)}", file=self.echo)

        def local(frame, event, arg):
            if event == "return":
                record(frame)
            return local

        def calls(frame, event, arg):  # trace only the kernel's own frame
            return local if frame.f_code is code else None

        def program(**kwargs):
            previous = sys.gettrace()
            sys.settrace(calls)
            try:
                return fn(**kwargs)
            finally:
                sys.settrace(previous)

        return program, None


@contextlib.contextmanager
def watch(pattern: str, *names: str, echo=None, device=None):
    """Record the variables ``names`` of every kernel matching ``pattern`` launched in the block.

    Yields a :class:`Watch`: ``.records`` (a list of ``Watched``) and
    ``.values(name)``.  ``echo`` (a file) also prints each value as it is
    recorded.  If no kernel matched, :class:`~.instrument.NoSuchKernel` names
    the ones launched.  ``EXT_CODEGEN_WATCH=<pattern>:<name>,<name>`` prints
    them to stderr around a script.
    """
    interpreted(device)
    if not names:
        raise ValueError("watch: name at least one kernel variable (xindex, tmp0, ...)")
    recorder = Watch(pattern, names, echo)
    with installed(recorder):
        yield recorder
    if recorder.launches == 0:
        raise no_match("watch", pattern)
