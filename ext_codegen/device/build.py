"""Compile ``csrc/extdev.cpp`` once per source, torch and Python; load it in every later process.

PyTorch asks a PrivateUse1 device for things only C++ can give (an allocator,
a device guard, hooks, kernels), so the device needs a shared library.  This
module builds it with ``torch.utils.cpp_extension.load`` (needs ``ninja``
and a C++17 compiler; it never installs anything) into a cache directory whose
name is a hash of everything the binary depends on, so a changed source, a new
torch or another Python gets a fresh build and an unchanged one is only
``dlopen``-ed.

Measured on the 2-core development machine (g++ 12, torch 2.13.0+cpu, ninja
1.13): a cold build takes 23-28 s on an idle machine (39 s while other jobs
shared the cores); a warm load (``torch.ops.load_library`` of the cached
``.so``) takes about 0.01 s: the device adds no measurable time to ``import
torch`` (what the autoload costs is :mod:`ext_codegen.autoload`'s to say).

The cache lives in ``$EXT_CODEGEN_CACHE`` if set, else
``$XDG_CACHE_HOME/ext_codegen`` (``~/.cache/ext_codegen``), one folder per
build: ``extdev-<hash>/``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import torch

SOURCE = Path(__file__).parent / "csrc" / "extdev.cpp"
EXTENSION_NAME = "ext_codegen_extdev"

#: ``"built"`` or ``"cache"`` once :func:`ensure_loaded` has run in this process, else ``None``.
last_load: str | None = None
#: Seconds the last :func:`ensure_loaded` took (compile + load, or load alone).
last_build_seconds: float | None = None


class BuildError(RuntimeError):
    """The C++ half of extdev could not be compiled or loaded."""


def cache_dir() -> Path:
    """The folder this source, torch and Python build into."""
    key = hashlib.sha256()
    for part in (SOURCE.read_bytes(), torch.__version__.encode(), sys.version.encode(),
                 os.environ.get("CXX", "c++").encode()):
        key.update(part)
        key.update(b"\0")
    root = os.environ.get("EXT_CODEGEN_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ext_codegen"
    return Path(root) / f"extdev-{key.hexdigest()[:16]}"


def library_path() -> Path:
    return cache_dir() / f"{EXTENSION_NAME}.so"


def ensure_loaded() -> str:
    """Load the library into this process, building it first if no cached build exists.

    Returns ``"built"`` or ``"cache"``.  Raises :class:`BuildError` saying what failed.
    """
    global last_load, last_build_seconds
    start = time.perf_counter()
    folder = cache_dir()
    done = folder / "complete"  # written after a whole build, so a half-written .so is never loaded
    if done.exists():
        torch.ops.load_library(str(library_path()))
        last_load = "cache"
    else:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            from torch.utils import cpp_extension

            cpp_extension.verify_ninja_availability()
            # Several processes may start at once: cpp_extension serialises them with a lock file
            # in the folder, and the losers load what the winner built.
            cpp_extension.load(EXTENSION_NAME, [str(SOURCE)], build_directory=str(folder),
                               is_python_module=False, extra_cflags=["-O1"])
        except Exception as err:
            # cpp_extension's message already holds the compiler's output; chaining would print it twice.
            raise BuildError(
                f"could not build the extdev device's C++ ({SOURCE}) into {folder}: {err}") from None
        done.write_text(f"{time.perf_counter() - start:.1f} s\n")
        last_load = "built"
    last_build_seconds = time.perf_counter() - start
    return last_load
