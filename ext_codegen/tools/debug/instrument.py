"""What the debugging tools share: the launcher's hook, kernel names, devices, source lines.

A tool is an *instrument* in the sense of
:data:`ext_codegen.triton_backend.launch.instruments`: called once per
launch, it returns the function to run for each program instance and an
optional callback for the end of the launch.  :func:`installed` puts one in
the launcher's list for the length of a ``with`` block and takes it out
again, so that with no tool on the launcher runs exactly as before.
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import functools
import sys

from ...names import HOST_DEVICES
from ...triton_backend import launch


class NoSuchKernel(LookupError):
    """A kernel name or glob that matched none of the kernels launched."""


def interpreted(device) -> None:
    """Raise unless kernels for ``device`` run in Triton's interpreter (``cpu``, ``extdev``).

    On ``cuda`` (or any other device) kernels are machine code launched by
    the device's own driver: there is no Python line to stop at and no
    load to check, and a tool that silently did nothing would mislead.
    """
    if device is None:
        return
    kind = getattr(device, "type", None) or str(device).split(":")[0]
    if kind not in HOST_DEVICES:
        raise ValueError(
            f"kernels for device {kind!r} do not run in Triton's interpreter, so they cannot be debugged here; "
            f"these tools work on the devices {', '.join(HOST_DEVICES)}"
        )


def launched_kernels() -> list[str]:
    """The names of every kernel this process has launched in the interpreter, sorted."""
    return sorted({jit_fn.__name__ for jit_fn in launch.prepared})


def matches(pattern: str, name: str) -> bool:
    """Whether kernel ``name`` is ``pattern`` or matches it as a shell glob (``triton_poi_*``)."""
    return name == pattern or fnmatch.fnmatchcase(name, pattern)


def no_match(what: str, pattern: str) -> NoSuchKernel:
    names = launched_kernels()
    listed = ", ".join(names) if names else "none"
    return NoSuchKernel(f"{what} {pattern!r} matched no kernel; the kernels launched are: {listed}")


@contextlib.contextmanager
def installed(instrument):
    """``instrument`` in the launcher's hook for the ``with`` block."""
    launch.instruments.append(instrument)
    try:
        yield instrument
    finally:
        launch.instruments.remove(instrument)


def kernel_line(file_name: str) -> int | None:
    """The line of the kernel (source ``file_name``) that is running now, seen from inside a builder call."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == file_name:
            return frame.f_lineno
        frame = frame.f_back
    return None


@functools.lru_cache(maxsize=256)
def source_lines(file_name: str) -> tuple[str, ...]:
    with open(file_name) as f:
        return tuple(f.read().splitlines())


_MEMORY_OPS = {"load", "store", "atomic_add", "atomic_max", "atomic_min", "atomic_and", "atomic_or",
               "atomic_xor", "atomic_xchg", "atomic_cas"}


@functools.lru_cache(maxsize=256)
def pointer_names(file_name: str) -> dict[int, frozenset[str]]:
    """Line -> the names in the pointer argument of the loads, stores and atomics on that line.

    Inductor writes every access as ``tl.load(in_ptr0 + (x0), xmask)``: the
    one kernel parameter among these names is the tensor argument the
    pointer came from.  Reading it from the source is exact for such kernels
    and costs nothing at run time; the bounds check falls back to the
    addresses when a line names no single argument.
    """
    tree = ast.parse("\n".join(source_lines(file_name)))
    found: dict[int, set[str]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _MEMORY_OPS and node.args):
            names = {n.id for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)}
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                found.setdefault(line, set()).update(names)
    return {line: frozenset(names) for line, names in found.items()}


def program_id(program) -> tuple[int, int, int]:
    """``3`` or ``(3,)`` or ``(3, 0, 0)`` as a full program id."""
    ids = (program,) if isinstance(program, int) else tuple(program)
    return tuple(ids) + (0,) * (3 - len(ids))
