"""Stop in a kernel: the Python debugger at the first line of a generated kernel.

Triton's interpreter compiles a kernel's rewritten syntax tree under the
name of the kernel's own source file and with its line numbers, so pdb shows
the file Inductor wrote — ``xindex``, ``xmask``, ``tmp3`` are local
variables (``p tmp3`` prints the block as a numpy array through the
``tl.tensor``'s handle) and ``n`` steps one kernel line.

:func:`break_in` stops once, in the first launch of the first kernel whose
name matches, at the chosen program instance (``(0, 0, 0)`` unless told).
Program ids are those of the launch as it runs, after the launcher's
widening of ``XBLOCK`` (:mod:`ext_codegen.triton_backend.widening`): a
kernel that had four programs may run as one.
"""

from __future__ import annotations

import contextlib
import io
import pdb
import sys

from .instrument import installed, interpreted, matches, no_match, program_id


def _array(value):
    """A kernel's block (``tl.tensor``) as the numpy array its handle holds; anything else as it is."""
    handle = getattr(value, "handle", None)
    return handle.data if handle is not None and hasattr(handle, "data") else value


class KernelPdb(pdb.Pdb):
    """pdb whose ``p`` and ``pp`` see a kernel's blocks as numpy arrays.

    ``p tmp3[:4]`` or ``p xmask.sum()`` then work as on any array; a
    ``tl.tensor`` itself supports neither outside a running kernel.
    """

    def _getval(self, arg):
        arrays = {name: _array(value) for name, value in self.curframe_locals.items()}
        try:
            return _array(eval(arg, self.curframe.f_globals, arrays))
        except Exception:
            self._error_exc()
            raise

    def displayhook(self, obj):
        super().displayhook(_array(obj))


class _Script(io.StringIO):
    """Scripted pdb input that echoes each command after the prompt, as a terminal would."""

    def __init__(self, commands, echo) -> None:
        super().__init__("".join(f"{c}\n" for c in commands))
        self.echo = echo

    def readline(self, *args):
        line = super().readline(*args)
        self.echo.write(line)
        return line


class Breakpoint:
    """A launcher instrument that runs one program instance of a matching kernel under pdb."""

    def __init__(self, pattern: str, program=0, commands=None, stdout=None) -> None:
        self.pattern, self.program = pattern, program_id(program)
        self.commands, self.stdout = commands, stdout
        #: The name of the kernel it stopped in, once it has.
        self.kernel: str | None = None

    def _debugger(self) -> pdb.Pdb:
        if self.commands is None:  # interactive: the terminal's stdin and stdout
            return KernelPdb(readrc=False)
        script = list(self.commands)
        if not script or script[-1].strip() not in ("c", "cont", "continue"):
            script.append("continue")  # a script that runs out must not leave pdb reading EOF
        out = self.stdout or sys.stdout
        return KernelPdb(stdin=_Script(script, out), stdout=out, readrc=False)

    def __call__(self, kernel, fn, args, scope, builder):
        if self.kernel is not None or not matches(self.pattern, kernel.__name__):
            return fn, None
        self.kernel = kernel.__name__
        grid = tuple(builder.grid_dim)
        if any(p >= g for p, g in zip(self.program, grid)):
            raise ValueError(f"program {self.program} is outside the grid {grid} of kernel {kernel.__name__} "
                             f"(as launched, after widening)")
        want = self.program

        def program(**kwargs):
            if tuple(builder.grid_idx) != want:
                return fn(**kwargs)
            # runcall stops as the function is entered: at the kernel's first line
            return self._debugger().runcall(fn, **kwargs)

        return program, None


@contextlib.contextmanager
def break_in(pattern: str, program=0, commands=None, stdout=None, device=None):
    """Stop in pdb at the first line of the first launched kernel whose name matches ``pattern``.

    ``pattern`` is a kernel name or a shell glob (``triton_poi_*``);
    ``program`` the program id to stop in (an int or an ``(x, y, z)``
    tuple).  ``commands``, a list of pdb commands, drives the session
    without a terminal (tests, these docs), printing to ``stdout``.  If no
    kernel matched by the end of the block, :class:`~.instrument.NoSuchKernel`
    names the kernels that were launched.  ``EXT_CODEGEN_BREAK=<pattern>``
    (``EXT_CODEGEN_BREAK_PROGRAM=x[,y,z]``) does the same around a script.
    """
    interpreted(device)
    stop = Breakpoint(pattern, program, commands, stdout)
    with installed(stop):
        yield stop
    if stop.kernel is None:
        raise no_match("break_in", pattern)
