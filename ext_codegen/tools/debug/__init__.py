"""Debugging the kernels Inductor generates, on ``cpu`` and ``extdev`` alike.

Every kernel of this package runs as Python in Triton's interpreter, so the
questions a backend author asks when a compiled model is wrong — *which
kernel, which line, which index?* — can be answered with ordinary Python
tools.  Four of them, each a context manager or function here and, where it
fits, an environment variable read at every launch (so an unchanged script
can be wrapped):

* :func:`~.breakpoint.break_in` (``EXT_CODEGEN_BREAK``), in :mod:`.breakpoint`:
  pdb at a kernel's first line;
* :func:`~.watch.watch` (``EXT_CODEGEN_WATCH``), in :mod:`.watch`: a kernel's
  variables, per launch;
* :func:`~.bounds.check_bounds` (``EXT_CODEGEN_CHECK_BOUNDS``), in
  :mod:`.bounds`: every access against its tensor;
* :func:`~.bisect.find_wrong_kernel`, in :mod:`.bisect`: the first kernel
  whose output is wrong.

:mod:`.instrument` holds what they share (installing an instrument in the
launcher's one hook, :data:`ext_codegen.triton_backend.launch.instruments`,
matching kernel names, the device check); :mod:`.environment` turns the
variables into instruments, and the launcher reaches it through the entry
point ``pyproject.toml`` declares in the ``ext_codegen.instruments`` group
(the plugin never names the tools); :mod:`.reproducer` writes one kernel and
its inputs as a standalone script.  With no tool on, nothing is installed.

What it may import: torch, numpy, triton, the Triton plugin
(:mod:`ext_codegen.triton_backend`: its launcher's hook, its fast paths'
symbolic blocks), :mod:`ext_codegen.compat`, :mod:`ext_codegen.names` and its
own modules; never the extension points.
"""

from __future__ import annotations

from .bisect import Finding, find_wrong_kernel
from .bounds import OutOfBounds, check_bounds
from .breakpoint import break_in
from .instrument import NoSuchKernel, launched_kernels
from .watch import watch

__all__ = ["Finding", "NoSuchKernel", "OutOfBounds", "break_in", "check_bounds", "find_wrong_kernel",
           "launched_kernels", "watch"]
