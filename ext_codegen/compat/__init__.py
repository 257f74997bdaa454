"""Every difference between the supported torch and triton releases, in one place.

Supported (tested as a matrix, see ``docs/compatibility.md``):

=========  ========  =========================================
torch      triton    pinned by that torch's wheel
=========  ========  =========================================
2.11       3.6       ``triton==3.6.0``
2.13       3.8       (the CPU wheel pins none; CI uses 3.8.0)
2.14       3.8       ``triton~=3.8.0``
2.15       3.9       ``triton~=3.9.0``
=========  ========  =========================================

==========================  ==================================================================
module                      the differences it papers over
==========================  ==================================================================
:mod:`.torch_versions`      Inductor's and Dynamo's: scheduling hooks, registries, the
                            benchmarker, whether Triton is usable on a device
:mod:`.triton_versions`     Triton's: the interpreter, the JIT function, the default
                            driver, the options a backend is given
==========================  ==================================================================

Each entry names the release that changed what it papers over and, where it
could be found, the upstream change.  A caller imports the module it needs
(``from ..compat import triton_versions``); this ``__init__`` holds only what
both modules use: :func:`major_minor` to read a release number, and
:func:`lazy_version` for ``TORCH_VERSION`` and ``TRITON_VERSION``.

What it may import: :mod:`ext_codegen.names` and its own modules; nothing else
of the package, since every part imports it.  The Triton plugin imports
:mod:`.triton_versions` while ``import triton`` itself is still running, so
nothing here imports torch or triton at module level: those imports happen
inside functions, or on first access of ``TORCH_VERSION`` and
``TRITON_VERSION`` (a module ``__getattr__``).
"""

from __future__ import annotations

import sys


def major_minor(version: str) -> tuple[int, int]:
    """``(2, 13)`` for a ``__version__`` such as ``"2.13.0+cpu"``.

    >>> major_minor("2.13.0+cpu"), major_minor("3.8.0")
    ((2, 13), (3, 8))
    """
    major, minor = version.split("+")[0].split(".")[:2]
    return int(major), int(minor)


def lazy_version(module_name: str, attr: str, read_version):
    """A module ``__getattr__`` (PEP 562) that gives ``attr``: ``major_minor(read_version())``.

    Computed on first access and then kept as a plain module global, so that
    importing the module does not import torch or triton (``read_version``
    imports it).  Any other missing name is an ``AttributeError``, as usual.
    """
    def __getattr__(name: str):
        if name != attr:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = major_minor(read_version())
        setattr(sys.modules[module_name], attr, value)
        return value

    return __getattr__
