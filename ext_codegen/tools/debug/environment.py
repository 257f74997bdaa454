"""The debugging tools asked for by environment variables, around an unchanged script.

:func:`instruments` is this package's entry point in the launcher's
``ext_codegen.instruments`` group (``pyproject.toml``;
:data:`ext_codegen.triton_backend.launch.INSTRUMENTS_GROUP`): the launcher
loads it, and with it this module, at the first launch of a process, without
naming it, and calls it at every launch.  It reads these variables and
returns the instruments they ask for:

* ``EXT_CODEGEN_BREAK=<name or glob>`` — pdb at the first line of the first
  matching kernel (``EXT_CODEGEN_BREAK_PROGRAM=x[,y,z]`` for another program);
* ``EXT_CODEGEN_WATCH=<name or glob>:<var>,<var>`` — the variables of every
  matching launch printed to stderr;
* ``EXT_CODEGEN_CHECK_BOUNDS=1`` — every access checked (``0`` or empty: off).

An instrument is built once per value of its variable, so a breakpoint stops
once per process; a pattern that matched nothing by the end of the process
is reported on stderr with the names of the kernels that were launched.
"""

from __future__ import annotations

import atexit
import os
import sys

from . import bounds
from .breakpoint import Breakpoint
from .instrument import no_match
from .watch import Watch

_built: dict[tuple[str, str], object] = {}


def _unmatched() -> None:
    for (variable, value), tool in _built.items():
        if isinstance(tool, Breakpoint) and tool.kernel is None or isinstance(tool, Watch) and not tool.launches:
            print(f"ext_codegen: {variable}: {no_match('the pattern', tool.pattern)}", file=sys.stderr)


atexit.register(_unmatched)


def _build(variable: str, value: str):
    if variable == "EXT_CODEGEN_BREAK":
        program = os.environ.get("EXT_CODEGEN_BREAK_PROGRAM", "0")
        return Breakpoint(value, tuple(int(p) for p in program.split(",")))
    if variable == "EXT_CODEGEN_WATCH":
        pattern, _, names = value.partition(":")
        if not names:
            raise ValueError(f"EXT_CODEGEN_WATCH={value!r}: write <kernel name or glob>:<var>,<var>")
        return Watch(pattern, [n.strip() for n in names.split(",") if n.strip()], echo=sys.stderr)
    return bounds.instrument


#: The variables :func:`instruments` reads, in the order their instruments wrap a launch.
VARIABLES = ("EXT_CODEGEN_CHECK_BOUNDS", "EXT_CODEGEN_WATCH", "EXT_CODEGEN_BREAK")


def instruments() -> list:
    """The instruments the environment asks for now (called at every launch: unset, three lookups)."""
    found = []
    for variable in VARIABLES:
        value = os.environ.get(variable)
        if not value:
            continue
        value = value.strip()
        if not value or value == "0":
            continue
        key = (variable, value)
        if key not in _built:
            _built[key] = _build(variable, value)
        found.append(_built[key])
    return found
