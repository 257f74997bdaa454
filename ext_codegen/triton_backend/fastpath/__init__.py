"""Index arithmetic kept symbolic, loads and stores as numpy copies.

Profiling the interpreter on Inductor's kernels shows that much of a kernel's
time goes into addresses, not into the values it computes: for
``tl.load(in_ptr0 + (r0_1 + 1024*x0), ...)`` Triton's interpreter
materialises ``r0_1 + 1024*x0`` as a full ``[XBLOCK, R0_BLOCK]`` array (and,
for its overflow check, again in 64 bits), turns it into an array of absolute
addresses, and then copies element by element from those addresses in C++.

The fast paths keep an integer block of the form ``c + s_0*i_0 + s_1*i_1 + ...``
(``Affine``: a constant and one step per axis; ``xindex`` is
``xoffset + 1*i_0``, ``r0_1 + 1024*x0`` is ``1024*i_0 + 1*i_1``) in that form
for as long as the kernel only adds, subtracts, multiplies by a scalar,
broadcasts, expands, casts it or compares it with a result its bounds decide.
A pointer block of that form is a strided numpy view of the buffer it points
into: the load is a numpy copy, the store a numpy assignment.  Any other use
of such a block asks for its ``data`` and gets exactly the array the
interpreter would have computed, so whatever the module does not understand
runs as before.

Every shortcut is exact or not taken:

* A symbolic block is only created when its smallest and largest values
  (computed from the constant and the steps with Python integers) fit its
  integer type, so no wrap-around is ever skipped.
* A view is only made when the whole block of addresses, masked lanes
  included, lies inside one of the launch's tensor arguments (or, for a ragged
  tail, the box around the lanes the mask selects does); masked lanes are then
  read and discarded but never written.  Otherwise the addresses the mask
  selects are gathered with ``numpy.take`` from the argument that holds all of
  them, or, if no argument does, Triton's own load runs.
* Stores through a view require that no two lanes share an address.
* Loaded blocks and floating-point constants are C-ordered arrays, as
  Triton's are: numpy adds in an order that follows memory layout, so a later
  ``tl.sum`` sees the layout it saw before.

Nothing here runs on a GPU: the fast paths are installed only inside
:func:`ext_codegen.triton_backend.launch.launch`, through its per-launch patch scope.

=====================  ==========================================================
module                 what it keeps fast
=====================  ==========================================================
:mod:`.affine`         the symbolic blocks and their bounds
:mod:`.index_ops`      index arithmetic on them (builder methods)
:mod:`.memory`         loads and stores as views or gathers of the arguments
=====================  ==========================================================

What it may import: numpy, torch, triton, :mod:`ext_codegen.compat`,
:mod:`ext_codegen.names` and its own modules; never the rest of the plugin.
"""

from __future__ import annotations

from typing import Any

from . import index_ops, memory
from .memory import fast_load, fast_store, stats

__all__ = ["ENABLED", "install", "fast_load", "fast_store", "stats"]

#: Switch for tests and for measuring what the fast paths bring.
ENABLED = True


def install(scope, builder, args: dict[str, Any]) -> None:
    """Install the fast paths on the interpreter's builder for one launch (``scope`` restores all)."""
    if not ENABLED:
        return
    cls = type(builder)
    for name, wrap in {**index_ops.WRAPPERS, **memory.WRAPPERS}.items():
        scope.set_attr(cls, name, wrap(getattr(cls, name)))
    scope.set_attr(memory, "_buffers", memory.Buffers(args))
