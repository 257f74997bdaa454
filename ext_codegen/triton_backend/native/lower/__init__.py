"""Triton IR to C: one kernel function, and the entry point that runs a range of programs.

The generated file has three parts:

* the prelude (``prelude.h``): scalar helpers with Triton's semantics;
* ``static int kernel(args..., pid_x, pid_y, pid_z, num_x, num_y, num_z, S)``:
  one program instance, every block value a C scalar, a view, or an array in
  the scratch arena ``S``; returns 0, or ``k`` when the ``k``-th device assert
  failed;
* ``int ext_codegen_launch(gx, gy, gz, threads, chunk, args...)``: what the
  launcher calls (once per launch, from Python, with the kernel's own
  parameter types, so ``ctypes`` converts the arguments without Python
  objects of its own), returning the status.  It runs ``threads`` workers
  in an OpenMP parallel region -- the OpenMP runtime PyTorch itself uses, so
  the kernel shares one team of threads with ATen's ops instead of fighting
  their spinning workers for the cores.  Each worker unpacks the arguments,
  takes its arena (kept per thread from launch to launch: no page faults per
  launch), then takes chunks of program ids from the shared ``counter`` (an
  atomic increment, so ids are handed out in increasing order across all
  workers) and runs them, x fastest, as a GPU dispatches blocks.  A failed
  assert stores its code in ``status`` (-1: no memory for the arena) and
  every worker stops at its next chunk.

The op lowerings live in one module per idea and register themselves with
``ext_codegen.triton_backend.native.lower.emit.handles`` when imported here.

What it may import: the modules of :mod:`ext_codegen.triton_backend.native`
(the parsed tree, the fusion and storage plans) and its own modules; nothing
else of the package.
"""

from __future__ import annotations

import dataclasses
import os

from .. import storage
from ..ttir import Func
from . import control, elementwise, memory, reduce, shapes  # noqa: F401  (register the lowerings)
from .emit import Emitter, ctype

#: The file every kernel's C starts with, installed with the package (``pyproject.toml``'s package data).
PRELUDE_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "prelude.h")
with open(PRELUDE_PATH) as _prelude:
    PRELUDE = _prelude.read()


@dataclasses.dataclass
class Lowered:
    name: str
    source: str
    arg_types: list        # ttir.Type of each kernel argument, in order
    asserts: list          # message of each device assert (code k is asserts[k - 1])
    scratch: int           # arena bytes per thread
    max_block: int         # largest block, in elements (a hint for the launcher)


def lower(func: Func) -> Lowered:
    plan = storage.plan(func)
    em = Emitter(plan)
    em.block(func.body)
    params = [f"{ctype(a.type)} {em.name(a)}" for a in func.args]
    ids = ["int32_t pid_x", "int32_t pid_y", "int32_t pid_z", "int32_t num_x", "int32_t num_y", "int32_t num_z"]
    unpack = [f"    {ctype(a.type)} {em.name(a)} = *({ctype(a.type)} *)args[{k}];" for k, a in enumerate(func.args)]
    call_args = [em.name(a) for a in func.args] + ["x", "y", "z", "gx", "gy", "gz", "S"]
    source = "\n".join([
        PRELUDE,
        f"/* kernel {func.name} */",
        *em.globals,
        f"static int kernel({', '.join(params + ids + ['char *restrict S'])}) {{",
        *em.lines,
        "    return 0;",
        "}",
        "",
        "static _Thread_local char *arena;   /* a worker's scratch, kept from launch to launch */",
        "static _Thread_local int64_t arena_size;",
        "",
        "static void programs(void **args, int32_t gx, int32_t gy, int32_t gz, int64_t *counter, int64_t chunk, "
        "int32_t *status) {",
        *unpack,
        "    int64_t total = (int64_t)gx * gy * gz;",
        f"    if (arena_size < {plan.size}) {{",
        "        free(arena);",
        f"        arena = aligned_alloc(64, {plan.size});",
        f"        arena_size = arena ? {plan.size} : 0;",
        "    }",
        "    char *S = arena;",
        "    if (!S) { int32_t none = 0; __atomic_compare_exchange_n(status, &none, -1, 0, __ATOMIC_SEQ_CST, "
        "__ATOMIC_RELAXED); return; }",
        "    for (;;) {",
        "        if (__atomic_load_n(status, __ATOMIC_RELAXED)) return;",
        "        int64_t s = __atomic_fetch_add(counter, chunk, __ATOMIC_RELAXED);",
        "        if (s >= total) return;",
        "        int64_t e = s + chunk < total ? s + chunk : total;",
        "        for (int64_t p = s; p < e; p++) {",
        "            int32_t x = (int32_t)(p % gx), y = (int32_t)((p / gx) % gy), z = (int32_t)(p / ((int64_t)gx * gy));",
        f"            int rc = kernel({', '.join(call_args)});",
        "            if (rc) { int32_t none = 0; __atomic_compare_exchange_n(status, &none, rc, 0, "
        "__ATOMIC_SEQ_CST, __ATOMIC_RELAXED); return; }",
        "        }",
        "    }",
        "}",
        "",
        f"int ext_codegen_launch({', '.join(['int32_t gx', 'int32_t gy', 'int32_t gz', 'int32_t threads', 'int64_t chunk'] + params)}) {{",
        f"    void *args[] = {{{', '.join(['0'] + ['&' + em.name(a) for a in func.args])}}};",
        "    int64_t counter = 0;",
        "    int32_t status = 0;",
        "    if (threads <= 1) {",
        "        programs(args + 1, gx, gy, gz, &counter, chunk, &status);",
        "    } else {",
        "#pragma omp parallel num_threads(threads)",
        "        programs(args + 1, gx, gy, gz, &counter, chunk, &status);",
        "    }",
        "    return status;",
        "}",
        "",
    ])
    return Lowered(func.name, source, [a.type for a in func.args], em.asserts, plan.size, plan.max_block)
