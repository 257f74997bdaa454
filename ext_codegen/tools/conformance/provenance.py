"""Where and how a run was made, as a report records it: the machine, the versions, the command.

A committed report says how to make it again and on what, never where on the
author's disk: :func:`user_command` records the command line as a user would
type it, with ``--out`` made portable by :func:`portable_path`.
"""

from __future__ import annotations

import os
import platform
import shlex

#: The documented entry point, recorded whichever way the tool was started
#: (``python -m ext_codegen.tools.conformance``, tox, a test).
USER_PROG = "python -m ext_codegen conformance"


def cpu_model() -> str:
    """The CPU's model name from Linux's ``/proc/cpuinfo``, else what ``platform`` reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """Versions and machine the run happened on."""
    import numpy
    import torch
    import triton

    from ext_codegen import __version__

    return {
        "torch": torch.__version__,
        "triton": triton.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "ext_codegen": __version__,
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
    }


def portable_path(path: str, cwd: str | None = None) -> str:
    """``path`` as a report may name it: relative to ``cwd`` (default: the current directory)
    when it lies inside it, else its last component only (``OUT`` for a root).

    >>> portable_path("/work/repo/sweeps/float64", cwd="/work/repo")
    'sweeps/float64'
    >>> portable_path("report/", cwd="/work/repo")
    'report/'
    >>> portable_path("/tmp/sweeps/float64", cwd="/work/repo"), portable_path("../float64", cwd="/work/repo")
    ('float64', 'float64')
    """
    cwd = os.path.abspath(cwd or os.getcwd())
    full = os.path.abspath(os.path.join(cwd, path))
    if full == cwd or full.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(full, cwd) if os.path.isabs(path) else path
    return os.path.basename(full.rstrip(os.sep)) or "OUT"


def user_command(argv: list[str], cwd: str | None = None) -> str:
    """The run's command line as a user would type it: ``python -m ext_codegen conformance ARGS``.

    The value of ``--out`` (also ``--out=DIR`` and the abbreviations argparse
    accepts) goes through :func:`portable_path`; the arguments are quoted as a
    POSIX shell needs them.

    >>> user_command(["--ops", "nn.functional.*", "--out", "/tmp/abc/float64"], cwd="/work/repo")
    "python -m ext_codegen conformance --ops 'nn.functional.*' --out float64"
    """
    args = list(argv)
    for k, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if len(name) < 4 or not "--out".startswith(name):  # "--o" would be ambiguous with --ops
            continue
        if eq:
            args[k] = f"{name}={portable_path(value, cwd)}"
        elif k + 1 < len(args):
            args[k + 1] = portable_path(args[k + 1], cwd)
    return " ".join([USER_PROG, *map(shlex.quote, args)])
