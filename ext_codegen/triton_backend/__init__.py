"""A Triton backend plugin whose kernels run on the host through Triton's interpreter.

Triton discovers out-of-tree backends through the ``triton.backends`` entry
point group; ``pyproject.toml`` declares this package there under the name
``cpu``.  Triton imports ``compiler.py`` and ``driver.py`` from it and expects
exactly one concrete :class:`~triton.backends.compiler.BaseBackend` and one
:class:`~triton.backends.driver.DriverBase` in them.

The name ``cpu`` is the one PyTorch looks for: ``torch.utils._triton.has_triton``
accepts the cpu device when a ``cpu`` backend exists, and Inductor switches
Triton's active driver to the ``cpu`` backend before it compiles a kernel for
a cpu tensor.
"""

BACKEND_NAME = "cpu"
