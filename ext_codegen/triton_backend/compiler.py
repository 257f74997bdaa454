"""The compiler half of the plugin: Triton's front end, then the native path's lowering and build.

``triton.compile`` asks this backend for its stages.  The kernel goes
through Triton's real front end (``ASTSource.make_ir``), so a kernel Triton
would reject on a GPU is rejected here too, and the Triton IR is kept in the
cache beside the metadata.  Then, by default, the native path's stages
(:mod:`ext_codegen.triton_backend.native.route`): ``"c"``, the kernel
lowered to C, and the binary stage, a shared library built from it.

With ``EXT_CODEGEN_NATIVE=0`` (read when the options are parsed, so part of
their hash), and for a kernel the lowering hands back, no machine code is
produced: the binary is the Triton IR text, and the launcher in
:mod:`ext_codegen.triton_backend.driver` executes the kernel's Python source
with Triton's interpreter.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pathlib
from types import ModuleType

from triton.backends.compiler import BaseBackend, GPUTarget

from ..compat import triton_versions
from ..names import HOST

# Bumped whenever what this backend produces for a kernel changes, so that
# Triton's and Inductor's caches never serve an artifact of an older plugin.
PLUGIN_VERSION = "3"  # 3: the native entry point takes typed arguments (ext_codegen_launch)


@functools.lru_cache(maxsize=None)
def source_hash(root: pathlib.Path = pathlib.Path(__file__).parent) -> str:
    """A hash of the Python sources and C headers under ``root``: by default the plugin's own, the
    native lowering and its C prelude included.

    Part of the backend's hash, which is part of Triton's cache key: a kernel
    built (or handed to the interpreter) by an older or edited copy of the
    plugin is never served from Triton's cache as if nothing had changed.
    ``ext_codegen.inductor.registration.source_hash`` hashes the whole
    package with it, for Inductor's FX graph cache.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".h")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class InterpreterOptions(triton_versions.ReleaseSpecificBackendOptions):
    """The compile options Triton's JIT passes to a backend; GPU-only ones are accepted and ignored."""

    num_warps: int = 4
    num_ctas: int = 1
    num_stages: int = 1
    warp_size: int = 1
    maxnreg: int | None = None
    cluster_dims: tuple = (1, 1, 1)
    enable_fp_fusion: bool = False
    launch_cooperative_grid: bool = False
    launch_pdl: bool = False
    supported_fp8_dtypes: tuple = ("fp8e5", "fp8e4nv", "fp8e4b15")
    deprecated_fp8_dot_operand_dtypes: tuple = ()
    default_dot_input_precision: str = "ieee"
    allowed_dot_input_precisions: tuple = ("ieee", "tf32", "tf32x3")
    max_num_imprecise_acc_default: int = 0
    extern_libs: tuple | None = None
    debug: bool = False
    sanitize_overflow: bool = False
    backend_name: str = HOST
    arch: str | None = None
    instrumentation_mode: str = ""
    #: compile natively: ``EXT_CODEGEN_NATIVE`` was not ``0`` when the options were parsed (docs/native.md).
    native: bool = False
    # Fields only some triton releases pass come from ReleaseSpecificBackendOptions.

    def hash(self) -> str:
        key = "_".join(f"{k}-{v}" for k, v in sorted(self.__dict__.items()))
        return hashlib.sha256(key.encode()).hexdigest()


class InterpreterBackend(BaseBackend):
    """Triton's compiler for the ``cpu`` target: front end to Triton IR, no code generation."""

    #: The binary stage: a shared library on the native path, the Triton IR text for the interpreter.
    binary_ext = "hostbin"
    #: The ``GPUTarget.backend`` this compiler accepts.
    TARGET = HOST

    @classmethod
    def supports_target(cls, target: GPUTarget) -> bool:
        return target.backend == cls.TARGET

    def __init__(self, target: GPUTarget) -> None:
        super().__init__(target)

    def hash(self) -> str:
        return f"ext_codegen-interpreter-{PLUGIN_VERSION}-{source_hash()}-{self.TARGET}"

    def parse_options(self, options: dict) -> InterpreterOptions:
        names = {f.name for f in dataclasses.fields(InterpreterOptions)}
        known = {k: v for k, v in options.items() if k in names and v is not None}
        if "cluster_dims" in known:
            known["cluster_dims"] = tuple(known["cluster_dims"])
        known["backend_name"] = self.TARGET
        if "native" not in known:
            from .native import route

            known["native"] = route.enabled()
        return InterpreterOptions(**known)

    def pack_metadata(self, metadata):
        return (metadata.num_warps, metadata.num_ctas, metadata.shared)

    def get_codegen_implementation(self, options):
        return {"min_dot_size": lambda lhs_type, rhs_type: (1, 1, 1)}

    def get_module_map(self) -> dict[str, ModuleType]:
        # The front end resolves ``libdevice.*`` through this map.  CUDA's
        # declarations give every function its argument and result types;
        # the interpreter later routes the calls to PyTorch (see
        # ext_codegen.triton_backend.gaps.libdevice).
        from triton.language.extra.cuda import libdevice

        return {"triton.language.extra.libdevice": libdevice}

    def load_dialects(self, context) -> None:
        pass

    def add_stages(self, stages: dict, options, language=None) -> None:
        stages["ttir"] = self._keep_ttir
        if not options.native:
            stages[self.binary_ext] = self._python_source
            return
        # The native path, as a vendor's backend: lowering, then the binary.  A
        # stage other than the binary one cannot hold bytes (CompiledKernel
        # reads every other stage back as text), so the shared library is the
        # binary stage itself and its C the stage before it.
        from .native import route

        native = route.Stages(options.enable_fp_fusion)
        stages["c"] = native.to_c
        stages[self.binary_ext] = native.to_binary

    @staticmethod
    def _keep_ttir(mod, metadata):
        metadata["shared"] = 0
        metadata.setdefault("global_scratch_size", 0)
        metadata.setdefault("global_scratch_align", 1)
        metadata.setdefault("profile_scratch_size", 0)
        metadata.setdefault("profile_scratch_align", 1)
        metadata["name"] = mod.get_entry_func_name()
        return mod

    @staticmethod
    def _python_source(mod, metadata) -> bytes:
        # The "binary" is the Triton IR text: the launcher needs only the
        # kernel's Python function, which it gets from the compiled source.
        return str(mod).encode()

