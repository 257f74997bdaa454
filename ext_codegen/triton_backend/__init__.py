"""The Triton plugin: a Triton backend whose kernels run on the host, compiled natively (or in Triton's interpreter).

Triton discovers out-of-tree backends through the ``triton.backends`` entry
point group; ``pyproject.toml`` declares this package there under the name
``cpu``.  Triton imports ``compiler.py`` and ``driver.py`` from it and expects
exactly one concrete :class:`~triton.backends.compiler.BaseBackend` and one
:class:`~triton.backends.driver.DriverBase` in them.

The name ``cpu`` is the one PyTorch looks for: ``torch.utils._triton.has_triton``
accepts the cpu device when a ``cpu`` backend exists, and Inductor switches
Triton's active driver to the ``cpu`` backend before it compiles a kernel for
a cpu tensor.

==================  =============================================================
file                what it is for
==================  =============================================================
``compiler.py``     Triton's compiler stages: the real front end, then native code (or the interpreter's)
``driver.py``       the active driver for the host, and the launcher Triton calls
``launch.py``       one launch: widen, patch, close the gaps, run every program
``widening.py``     fewer, wider program instances for Inductor's kernels
``language.py``     Triton's own language patch, recorded once and replayed
``recording.py``    a launch's builder calls, recorded once per key
``replay.py``       later launches replayed from that record, without the kernel's body
``extdev_target/``  the second backend, for the ``extdev`` device: same compiler and launcher
``gaps/``           what Triton's interpreter cannot run out of the box, a file a gap
``fastpath/``       index arithmetic kept symbolic, loads and stores as numpy views
``native/``         the default path: Triton IR lowered to C, built, run on every core
==================  =============================================================

What it may import: triton, torch, numpy, :mod:`ext_codegen.compat`,
:mod:`ext_codegen.names` and its own modules; never the extension points,
the registration, the device or the tools (the plugin serves any Triton
kernel, whoever generated it).  Tools reach the launcher through what they
register: the list :data:`.launch.instruments`, or an entry point of the
``ext_codegen.instruments`` group (:data:`.launch.INSTRUMENTS_GROUP`), which
the launcher loads without naming the package that provides it.  Triton
imports this package while ``import triton`` itself is running, possibly
from inside ``import torch``: ``compiler.py`` and ``driver.py`` import torch
only inside functions, and the rest is imported on a kernel's first launch.
"""
