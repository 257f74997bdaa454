"""The native path's entry points: its switches, the compiler's two stages, loading a binary, fallbacks.

The plugin's compiler (:mod:`ext_codegen.triton_backend.compiler`) asks
:func:`enabled` when it parses a kernel's options, so the switch is one of
the compile options and part of their hash: a kernel compiled natively and
the same kernel compiled for the interpreter never share a cache entry.
With the switch on (the default), its stages after ``ttir`` are ``Stages.to_c`` (the
stage named ``"c"``: the kernel's C source, kept in Triton's cache and in
``CompiledKernel.asm["c"]``) and ``Stages.to_binary`` (the binary
stage, ``"hostbin"``: the shared library's bytes, or, for a kernel
that falls back, the Triton IR text the interpreter path has always kept).

The driver's ``load_binary`` calls :func:`load`: a binary that is a shared
library is written to the native cache (once, by its hash) and opened; the
function it returns is what Triton hands the launcher on every launch, so
the launcher knows per kernel which path runs it.

A kernel that cannot be lowered (an op the lowering does not handle, or an
error in the lowering or the build) is run by the interpreter, whole; the
reason is in the kernel's metadata (``native_fallback``), in
:data:`fallbacks` (a count per reason, in the process that loads the
kernel) and in a log line of the ``ext_codegen.native`` logger (level INFO;
``EXT_CODEGEN_NATIVE_LOG=1`` raises it to WARNING, which Python prints
without any logging set up).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import time

from . import build, launcher, lower, reader, ttir

#: The switch of the native path: on unless it is ``0``, which runs every kernel in the interpreter.
ENV_NATIVE = "EXT_CODEGEN_NATIVE"
#: The check mode: ``1`` runs every native launch in the interpreter too, on copies, and compares.
ENV_CHECK = "EXT_CODEGEN_NATIVE_CHECK"
#: ``1``: fallbacks are logged at WARNING instead of INFO.
ENV_LOG = "EXT_CODEGEN_NATIVE_LOG"

#: Kernels loaded to run in the interpreter although the native path was on, by reason.
fallbacks = collections.Counter()
#: Launches the native path ran in this process.
native_launches = 0

logger = logging.getLogger("ext_codegen.native")

#: Ops whose result depends on the order of operations or on a library's rounding: the check mode
#: compares their kernels within a tolerance, every other kernel bit for bit.
INEXACT = re.compile(r"tt\.reduce|tt\.scan|tt\.dot|tt\.extern_elementwise|atomic_rmw fadd|"
                     r"math\.(exp|exp2|log|log2|log1p|expm1|sin|cos|tan|tanh|erf|rsqrt|powf|atan)")

_ELF = b"\x7fELF"


def enabled() -> bool:
    """Whether kernels compiled now are compiled natively (the default; ``EXT_CODEGEN_NATIVE=0`` says no)."""
    return os.environ.get(ENV_NATIVE, "1") != "0"


@contextlib.contextmanager
def interpreted():
    """Kernels compiled or launched inside the block run in Triton's interpreter (``EXT_CODEGEN_NATIVE=0``).

    The switch is read at compile time and at every launch, so a kernel
    compiled natively before the block is interpreted inside it too.  What
    the interpreter's own tests and benchmark use; the variable is restored
    on the way out.
    """
    before = os.environ.get(ENV_NATIVE)
    os.environ[ENV_NATIVE] = "0"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_NATIVE, None)
        else:
            os.environ[ENV_NATIVE] = before


def check_enabled() -> bool:
    """Whether native launches are checked against the interpreter (``EXT_CODEGEN_NATIVE_CHECK=1``)."""
    return os.environ.get(ENV_CHECK, "") == "1"


@dataclasses.dataclass
class Compiled:
    """:func:`compile_ttir`'s result: the kernel, its C, and what compiling it cost."""

    kernel: launcher.NativeKernel
    source: str
    ttir: str                # the optimised Triton IR that was lowered
    lower_seconds: float     # passes + parse + lowering
    gcc_seconds: float       # 0 when the library came from the cache
    cached: bool


def compile_ttir(text: str, enable_fp_fusion: bool = False, cooperative: bool = False,
                 optimized: bool = False) -> Compiled:
    """Triton IR text (``CompiledKernel.asm["ttir"]``) to a runnable kernel, outside Triton's compiler.

    Raises :class:`~.ttir.Unsupported` when an op cannot be lowered.  What
    the tests and the docs use to look at one kernel's C.
    """
    t = time.perf_counter()
    if not optimized:
        text = ttir.optimize(text)
    lowered = lower.lower(reader.parse(text))
    t_lower = time.perf_counter() - t
    built = build.build(lowered.source, fp_fusion=enable_fp_fusion)
    kernel = launcher.NativeKernel(lowered.name, [t.elem for t in lowered.arg_types], lowered.asserts,
                                   lowered.max_block, launcher.load_library(built.path), cooperative)
    return Compiled(kernel, lowered.source, text, t_lower, built.seconds, built.cached)


class Stages:
    """The compiler's stages after ``ttir`` for one compilation (Triton builds the stages per compile).

    ``metadata`` (the dict Triton writes to the cache beside the stages)
    receives ``native_fallback`` (``""``, or why the interpreter runs the
    kernel) and, for a native kernel, ``native_kernel``: what its launcher
    needs (parameter types, assert messages, largest block, whether the check
    mode compares it bit for bit).
    """

    def __init__(self, enable_fp_fusion: bool = False) -> None:
        self.enable_fp_fusion = enable_fp_fusion
        self.ttir_text = ""

    def to_c(self, mod, metadata) -> str:
        self.ttir_text = str(mod)
        try:
            text = ttir.optimize(self.ttir_text)
            lowered = lower.lower(reader.parse(text))
        except ttir.Unsupported as err:
            return self._fall_back(metadata, f"unsupported: {err.what}")
        except Exception as err:  # a lowering bug must not stop the kernel: the interpreter runs it
            return self._fall_back(metadata, f"lowering failed: {type(err).__name__}: {str(err)[:200]}")
        metadata["native_fallback"] = ""
        metadata["native_kernel"] = {
            "arg_types": [t.elem for t in lowered.arg_types], "asserts": lowered.asserts,
            "max_block": lowered.max_block, "exact": INEXACT.search(text) is None,
        }
        return lowered.source

    def to_binary(self, c_source: str, metadata) -> bytes:
        if metadata.get("native_fallback"):
            return self.ttir_text.encode()
        try:
            built = build.build(c_source, fp_fusion=self.enable_fp_fusion)
        except RuntimeError as err:
            self._fall_back(metadata, f"build failed: {str(err)[:200]}")
            return self.ttir_text.encode()
        with open(built.path, "rb") as f:
            return f.read()

    @staticmethod
    def _fall_back(metadata, reason: str) -> str:
        metadata["native_fallback"] = reason
        metadata.pop("native_kernel", None)
        return f"/* {metadata.get('name', 'kernel')}: run by the interpreter ({reason}) */\n"


def record_fallback(name: str, reason: str) -> None:
    """Count and log a kernel loaded to run in the interpreter although it was compiled with the switch on."""
    fallbacks[":".join(reason.split(":")[:2]).strip()] += 1  # "unsupported: tt.histogram"
    # an op the lowering lacks is expected now and then; a failed build (no compiler) is not
    loud = os.environ.get(ENV_LOG, "") == "1" or reason.startswith("build failed")
    level = logging.WARNING if loud else logging.INFO
    logger.log(level, "ext_codegen native: kernel %s runs in the interpreter: %s", name, reason)


def load(binary) -> object | None:
    """The entry point of a native binary (written to the native cache once and opened), or ``None``."""
    if not isinstance(binary, bytes) or not binary.startswith(_ELF):
        return None
    path = os.path.join(build.cache_dir(), f"lib-{hashlib.sha256(binary).hexdigest()[:32]}.so")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(binary)
        os.replace(tmp, path)
    return launcher.load_library(path)


def kernel_for(name: str, info: dict, entry, cooperative: bool = False) -> launcher.NativeKernel:
    """The launchable kernel of a loaded binary, from the ``native_kernel`` metadata its compile left."""
    return launcher.NativeKernel(name, info["arg_types"], info["asserts"], info["max_block"], entry, cooperative)


def count_launch() -> None:
    global native_launches
    native_launches += 1
