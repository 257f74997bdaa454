"""The native path: Triton IR lowered to C, built by the system compiler, run on every core (the default).

The plugin's compiler does what a vendor's backend does: after Triton's
front end it lowers the kernel's Triton IR to C and builds a shared
library, which the driver loads and launches over the grid with OpenMP.  A
kernel with an op the lowering does not handle is run by the interpreter,
whole (:data:`.route.fallbacks`); ``EXT_CODEGEN_NATIVE=0`` runs every
kernel there.
``docs/native.md`` is the page to read.

==================  ============================================================
``route.py``        the switches, the compiler's stages, loading, fallbacks
``ttir.py``         the tree of a kernel, and Triton's own passes run on its text
``reader.py``       the printed Triton IR read into that tree (line parser)
``ttir_ops.py``     what the line parser must know per op (result types, headers)
``fusion.py``       which block values are computed where they are read (fused
                    into the consumer's loop) and which are stored
``storage.py``      arena slots for the stored ones (liveness)
``lower/``          the C emitter, one module per group of ops
``prelude.h``       C helpers with Triton's semantics (rounding, NaN, division)
``build.py``        gcc to a shared library, cached by source hash
``launcher.py``     one ctypes call; OpenMP workers take ids in increasing order
``check.py``        the check mode: the interpreter on copies, compared
==================  ============================================================

What it may import: :mod:`ext_codegen.compat` and its own modules; triton's
IR bindings (for Triton's own TTIR passes), torch only inside
:mod:`.check`; never the rest of the plugin (the driver and the compiler
call this path, not the other way round).
"""
