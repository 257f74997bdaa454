"""C source to a shared library with the system compiler, cached by the source's hash.

``gcc -O2 -march=native -shared -fPIC -fno-fast-math``: the kernel is built
for this machine's CPU (the cache key names the CPU, so a cache shared with
another machine is not served to it).  Floating point stays IEEE:

* no ``-ffast-math`` (it would reorder sums and drop NaN/inf handling);
* ``-ffp-contract=off``: ``a*b+c`` is never an FMA.  Triton's
  ``enable_fp_fusion`` (on by default, so on for every Inductor kernel)
  *allows* contraction; it does not require it, and without it the results
  stay equal bit for bit to the interpreter's (now that fused loops keep
  products in registers, GCC would otherwise contract them).
  ``EXT_CODEGEN_NATIVE_FP_FUSION=1`` honours the option (``-ffp-contract=fast``);
* ``-fno-math-errno``: libm calls no longer set ``errno``, which lets GCC use
  ``sqrtss`` without a call; values do not change;
* ``-fopenmp``: the launch is an OpenMP parallel region (libgomp: the runtime
  PyTorch loads, so it is found already loaded and shared); and the
  ``#pragma omp simd`` the emitter puts on dependence-free loops makes
  ``-O2``'s cheap cost model keep them vectorised without alias checks; with
  ``-DEXT_CODEGEN_VECTOR_LIBM`` calls to ``expf``/``sinf``/... vectorise into
  glibc's libmvec (``-lmvec``).

The object is linked with ``ld`` directly (``_linker``); the compiler
driver's link step costs ~10 ms more.  A process per compile costs tens of
milliseconds, so the library is kept in
``$EXT_CODEGEN_CACHE/native`` (default ``~/.cache/ext_codegen/native``, the
root the ``extdev`` device's build uses too) under the hash of source,
flags, compiler and CPU, written to a temporary name and renamed (two
processes building the same kernel do not see half a file).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

CC = os.environ.get("EXT_CODEGEN_NATIVE_CC", "gcc")
BASE_FLAGS = ["-O2", "-march=native", "-shared", "-fPIC", "-fno-fast-math", "-fno-math-errno", "-fopenmp"]
#: glibc's vector libm (see prelude.h); EXT_CODEGEN_NATIVE_VECTOR_LIBM=0 calls the scalar functions
VECTOR_LIBM = os.environ.get("EXT_CODEGEN_NATIVE_VECTOR_LIBM", "1") != "0"


@dataclasses.dataclass
class Built:
    path: str
    seconds: float   # compile time (0 when served from the cache)
    cached: bool


def cache_dir() -> str:
    root = os.environ.get("EXT_CODEGEN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "ext_codegen")
    d = os.path.join(root, "native")
    os.makedirs(d, exist_ok=True)
    return d


@functools.lru_cache(maxsize=None)
def _toolchain_id() -> str:
    version = subprocess.run([CC, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:
        pass
    return version + cpu


#: a fused loop computing sin(x) and cos(x) would become one sincosf call, which does not vectorise
NO_SINCOS = ["-fno-builtin-sinf", "-fno-builtin-cosf", "-fno-builtin-sin", "-fno-builtin-cos"]
#: honour enable_fp_fusion (see above)
FP_FUSION = os.environ.get("EXT_CODEGEN_NATIVE_FP_FUSION", "0") == "1"


def flags(fp_fusion: bool) -> list[str]:
    vec = ["-DEXT_CODEGEN_VECTOR_LIBM", *NO_SINCOS] if VECTOR_LIBM else []
    return BASE_FLAGS + vec + ["-ffp-contract=fast" if fp_fusion and FP_FUSION else "-ffp-contract=off"]


#: Changed whenever the way a kernel is linked changes, so that the cache never serves a library linked the old way.
LINK_VERSION = "3"  # 2: GCC's runtime library linked (float64 -> float16 conversions); 3: libgomp kept (needed)


def build(source: str, fp_fusion: bool = False) -> Built:
    if shutil.which(CC) is None:
        raise RuntimeError(f"no C compiler: {CC!r} is not on PATH (install gcc, or name one in EXT_CODEGEN_NATIVE_CC)")
    opts = flags(fp_fusion)
    key = hashlib.sha256("\0".join([source, *opts, _toolchain_id(), LINK_VERSION]).encode()).hexdigest()[:32]
    d = cache_dir()
    path = os.path.join(d, f"{key}.so")
    if os.path.exists(path):
        return Built(path, 0.0, True)
    src = os.path.join(d, f"{key}.c")
    with open(src, "w") as f:
        f.write(source)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=d)
    os.close(fd)
    libs = [*(["-lmvec"] if VECTOR_LIBM else []), "-lm"]
    t = time.perf_counter()
    obj = tmp[:-3] + ".o"
    proc = subprocess.run([CC, *[o for o in opts if o != "-shared"], "-c", "-o", obj, src], capture_output=True, text=True)
    if proc.returncode == 0:
        link = _linker()
        # the object before the libraries: --as-needed keeps only a library something before it uses
        proc = subprocess.run([*link[:2], "-o", tmp, obj, *link[2:], *libs, _libgcc()] if link
                              else [CC, "-shared", "-fopenmp", "-o", tmp, obj, *libs],
                              capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if os.path.exists(obj):
        os.unlink(obj)
    if proc.returncode != 0:
        os.unlink(tmp)
        raise RuntimeError(f"ext_codegen native: {CC} failed on {src}:\n{proc.stderr[-4000:]}")
    os.replace(tmp, path)
    return Built(path, seconds, False)


@functools.lru_cache(maxsize=None)
def _libgcc() -> str:
    """GCC's runtime library, which the compiler driver links and ``ld`` alone does not.

    The kernel calls into it for the conversions the processor has no
    instruction for (``__truncdfhf2``: float64 to float16 in one rounding).
    """
    return subprocess.run([CC, "-print-libgcc-file-name"], capture_output=True, text=True).stdout.strip()


@functools.lru_cache(maxsize=None)
def _linker() -> list[str] | None:
    """``ld -shared ... libgomp.so -lc``: the linker itself, without the compiler driver and collect2 in
    front (10 ms a kernel).  None (link with the driver) when ``ld`` cannot link a probe."""
    gomp = subprocess.run([CC, "-print-file-name=libgomp.so"], capture_output=True, text=True).stdout.strip()
    cmd = ["ld", "-shared", "--as-needed", gomp, "-lc"] if os.path.isabs(gomp) else None
    if cmd is None:
        return None
    d = tempfile.mkdtemp(prefix="ext_codegen_ld_")
    try:
        src, obj = os.path.join(d, "p.c"), os.path.join(d, "p.o")
        with open(src, "w") as f:
            f.write("int ext_codegen_probe(void) { return 0; }\n")
        ok = subprocess.run([CC, "-fPIC", "-c", "-o", obj, src]).returncode == 0 and subprocess.run(
            [*cmd[:2], "-o", os.path.join(d, "p.so"), obj, *cmd[2:], "-lm"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return cmd if ok else None
