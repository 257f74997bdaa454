"""Stock Inductor against ext_codegen on a CUDA GPU: kernel time, bandwidth and compile time.

``python benchmarks/gpu_parity.py`` writes ``docs/results/benchmarks/gpu_parity.json``, which
the docs build turns into a table and a figure (``docs/_ext/render_results.py``, which
reads the JSON and never imports this script).

Both backends run in one process.  Each compile gets a cache directory of its
own (Inductor's and Triton's, through ``torch._inductor.utils.fresh_cache``,
with ``force_disable_caches`` on), so neither backend is served the other's
kernels, and compile times are cold for both.  The compiles of a case follow
the order stock, ext, ext, stock, ... so that drift favours neither side.

The compiled graph is taken from the Dynamo backend hook (``compile_fx`` called
by hand), so the stock and the extension versions of one function can be held
and called side by side after ``register``/``unregister`` have reset Dynamo.
Every compiled version is checked against float64 eager before any timing.
Timing uses ``triton.testing.do_bench`` (warm-up excluded, L2 flushed before
each call) in several rounds; the inputs are redrawn before each round and the
order of the two backends alternates.  Ceilings are measured in the same run:
a device-to-device copy (bytes read + bytes written) and a bf16 matrix product.

``--tiny`` shrinks every case (for tests); ``--device cpu`` runs the same
logic on a machine without a GPU (stock C++ against the Triton interpreter),
only to check the script.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import difflib
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Callable
from unittest import mock

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as C  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "docs", "results", "benchmarks", "gpu_parity.json")
BACKENDS = ("stock", "ext")
TARGETS = {"ratio_max": 1.01, "bandwidth_min_fraction": 0.90, "compile_ratio_max": 1.05}
QUANTILES = (0.1, 0.5, 0.9)
MLP_MODE = "max-autotune-no-cudagraphs"


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    name: str
    title: str
    fn: Callable
    make: Callable  # (device, dtype, seed) -> tuple of input tensors
    shape: str
    bound: str  # "memory" or "compute"
    dtype: torch.dtype = torch.float32
    mode: str = "default"
    train: bool = False
    compile_rounds: int = 5  # compiles per backend when time allows (sub-second ones are noisy)
    flops: float = 0.0  # useful floating-point operations per call (compute-bound cases)


# Full sizes fill an H100 (80 GB); tiny sizes run anywhere in seconds.
FULL = {
    "pointwise": (1 << 28,),  # 1 GiB float32 in, 1 GiB out
    "rows": (1 << 17, 1024),  # 512 MiB float32; rows short enough for one-pass (persistent) kernels
    "wide": (16384, 8192),  # 512 MiB float32; rows long enough for looped kernels
    "column": (32768, 8192),  # 1 GiB float32, reduced over the leading (strided) dimension
    "mlp": (8192, 4096),  # tokens, model dim (hidden 4x)
    "block": (8, 2048, 1024),  # batch, sequence, model dim (16 heads of 64)
    "train": (16, 2048, 1024),  # twice the batch: a step's Python overhead stays well under its GPU time
}
TINY = {
    "pointwise": (1 << 16,),
    "rows": (256, 256),
    "wide": (64, 2048),
    "column": (512, 256),
    "mlp": (256, 256),
    "block": (2, 128, 128),
    "train": (2, 128, 128),
}


def mlp_flops(tokens, dim):
    """Two products of a 4x-wide MLP: 2 * tokens * dim * 4dim each."""
    return {"matmul": 16 * tokens * dim * dim, "attention": 0}


def block_flops(batch, seq, dim):
    """Forward FLOPs of ``cases.transformer_block``.

    Matrix products: qkv (6 T D^2), output projection (2 T D^2), MLP (16 T D^2)
    with T = batch * seq.  Causal attention: Q K^T and P V over the lower
    triangle only, B S^2 D each (half of the full 2 B S^2 D).
    """
    tokens = batch * seq
    return {"matmul": 24 * tokens * dim * dim, "attention": 2 * batch * seq * seq * dim}


def build_cases(sizes: dict, device: str) -> list[Case]:
    low = torch.bfloat16 if device == "cuda" else torch.float32  # the CPU interpreter has no bf16
    (n,) = sizes["pointwise"]
    rows, cols = sizes["rows"]
    wrows, wcols = sizes["wide"]
    crows, ccols = sizes["column"]
    tokens, dim = sizes["mlp"]
    batch, seq, bdim = sizes["block"]
    tbatch, tseq, tdim = sizes["train"]

    def table(name, r, c):
        return lambda dev, dtype, seed: C.make_inputs(name, r, c, dev, dtype, seed)

    return [
        Case("pointwise_chain", "(sin(x)*2 + cos(x)).relu()", C.pointwise_chain,
             table("pointwise_chain", 1, n), f"{n}", "memory"),
        Case("softmax", "softmax over rows", C.softmax, table("softmax", rows, cols), f"{rows}x{cols}", "memory"),
        Case("layer_norm", "F.layer_norm with weight and bias", C.layer_norm,
             table("layer_norm", rows, cols), f"{rows}x{cols}", "memory"),
        Case("rms_norm", "x * rsqrt(mean(x^2) + eps) * w", C.rms_norm,
             table("rms_norm", rows, cols), f"{rows}x{cols}", "memory"),
        Case("column_sum", "x.sum(0): reduction over the strided dimension", C.column_sum,
             table("column_sum", crows, ccols), f"{crows}x{ccols}", "memory"),
        Case("mlp", f"gelu(x@w1+b1)@w2+b2, {MLP_MODE}, Triton templates", C.mlp,
             lambda dev, dtype, seed: C.make_mlp_inputs(tokens, dim, dev, dtype, seed),
             f"{tokens}x{dim}, hidden {4 * dim}", "compute", dtype=low, mode=MLP_MODE, compile_rounds=2,
             flops=sum(mlp_flops(tokens, dim).values())),
        Case("transformer_block", "pre-norm block: causal attention + MLP", C.transformer_block,
             lambda dev, dtype, seed: C.make_block_inputs(batch, seq, bdim, dev, dtype, seed),
             f"{batch}x{seq}x{bdim}", "compute", dtype=low, compile_rounds=3,
             flops=sum(block_flops(batch, seq, bdim).values())),
        Case("training_step", "the block's forward + backward (loss = mean square)", C.block_loss,
             lambda dev, dtype, seed: C.make_block_inputs(tbatch, tseq, tdim, dev, dtype, seed, requires_grad=True),
             f"{tbatch}x{tseq}x{tdim}", "compute", dtype=low, train=True, compile_rounds=2,
             flops=3 * sum(block_flops(tbatch, tseq, tdim).values())),
        Case("softmax_wide", "softmax over long rows (looped kernel)", C.softmax,
             table("softmax", wrows, wcols), f"{wrows}x{wcols}", "memory"),
    ]


def tolerance(case: Case) -> float:
    """Relative (Frobenius) error allowed against float64."""
    if case.dtype == torch.float32:
        return 1e-4
    return 5e-2 if case.train else 2e-2


# ---------------------------------------------------------------------------
# Compiling one case with one backend
# ---------------------------------------------------------------------------

def _fresh_cache():
    from torch._inductor import utils

    return getattr(utils, "fresh_cache", None) or utils.fresh_inductor_cache


def backend_context(backend: str, device: str):
    if backend == "stock":
        return contextlib.nullcontext()
    import ext_codegen

    return ext_codegen.registered(device)


def mode_patches(mode: str, device: str) -> dict:
    from torch._inductor import config

    patches = {}
    if mode != "default" and device == "cuda":
        patches.update(torch._inductor.list_mode_options(mode))
        # Both sides measure Triton templates (with fused epilogues), not a cuBLAS pick.
        patches["max_autotune_gemm_backends"] = "TRITON"
    if hasattr(config, "autotune_num_choices_displayed"):
        patches["autotune_num_choices_displayed"] = 0
    return patches


def call(compiled, inputs):
    """Call a graph compiled by ``compile_fx`` the way Dynamo does: one argument per input."""
    return compiled(*inputs)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


@dataclasses.dataclass
class Compiled:
    fn: Callable  # the compiled graph
    inputs: list  # the tensors it takes (the case's inputs, in Dynamo's order)
    seconds: float
    output: object
    codes: list
    cache_dir: str
    triton_cache_files: int  # files Triton wrote into this compile's own cache: > 0 means compiled cold


def compile_one(case: Case, backend: str, args, device: str, cache_root: str) -> Compiled:
    """Compile ``case`` cold with ``backend``; the first call (and backward) is inside the timer."""
    from torch._inductor import config
    from torch._inductor.compile_fx import compile_fx
    from torch._inductor.graph import GraphLowering

    captured = {}

    def capture(gm, example_inputs):
        compiled = compile_fx(gm, example_inputs)
        captured["fn"], captured["inputs"] = compiled, list(example_inputs)
        return compiled

    codes: list[str] = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(_fresh_cache()(dir=cache_root, delete=False))
        cache_dir = os.environ["TORCHINDUCTOR_CACHE_DIR"]
        stack.enter_context(backend_context(backend, device))
        stack.enter_context(config.patch(mode_patches(case.mode, device)))
        stack.enter_context(mock.patch.object(GraphLowering, "save_output_code", codes.append))
        torch._dynamo.reset()
        sync(device)
        start = time.perf_counter()
        out = torch.compile(case.fn, backend=capture, fullgraph=True, dynamic=False)(*args)
        if case.train:
            out.backward()
        sync(device)
        seconds = time.perf_counter() - start
    ids = {id(a) for a in args}
    if not all(id(t) in ids for t in captured["inputs"]):
        raise RuntimeError("the compiled graph takes tensors other than the case's inputs")
    triton_files = sum(len(files) for root, _, files in os.walk(cache_dir)
                       if "triton" in os.path.relpath(root, cache_dir).split(os.sep))
    return Compiled(captured["fn"], captured["inputs"], seconds, out, codes, cache_dir, triton_files)


# ---------------------------------------------------------------------------
# Correctness
# ---------------------------------------------------------------------------

def rel_err(out, ref) -> float:
    out, ref = out.detach().double(), ref.detach().double()
    err = ((out - ref).norm() / ref.norm().clamp_min(1e-300)).item()
    return err if math.isfinite(err) else float("inf")


def reference(case: Case, args):
    """float64 eager: the output, or for a training step the loss and the gradients."""
    dargs = [a.detach().double().requires_grad_(a.requires_grad) for a in args]
    if not case.train:
        with torch.no_grad():
            return {"out": case.fn(*dargs)}
    loss = case.fn(*dargs)
    loss.backward()
    return {"out": loss.detach(), "grads": [d.grad for d in dargs if d.requires_grad]}


def check(case: Case, out, args, ref) -> dict:
    """Relative errors of one compiled version's first call against the reference."""
    errs = {"out": rel_err(out, ref["out"])}
    if case.train:
        grads = [a.grad for a in args if a.requires_grad]
        if any(g is None for g in grads):
            raise RuntimeError("the compiled training step left a gradient unset")
        errs["grads"] = max(rel_err(g, r) for g, r in zip(grads, ref["grads"]))
    return errs


def clear_grads(args):
    for a in args:
        a.grad = None


# ---------------------------------------------------------------------------
# Generated code: compare what the two backends emitted
# ---------------------------------------------------------------------------

def normalize_code(code: str, cache_dir: str) -> str:
    from ext_codegen.inductor.wrapper import HEADER_MARK

    # force_disable_caches gives every compile_fx call a fresh directory of its own inside ours.
    code = re.sub(r"(?m)^# kernel path: .*/", "# kernel path: <cache>/", code.replace(cache_dir, "<cache>"))
    code = re.sub(r"AOT ID: \[.*?\]", "AOT ID: [...]", code)
    return "\n".join(line for line in code.splitlines() if HEADER_MARK not in line)


def code_stats(codes: list[str]) -> dict:
    text = "\n".join(codes)
    names = re.findall(r"async_compile\.triton\('(\w+)'", text)
    return {
        "graphs": len(codes),
        "triton_kernels": len(names),
        "template_kernels": sum("_tem_" in n for n in names),
        "extern_calls": len(re.findall(r"extern_kernels\.\w+\(", text)),
        "reduction_loops": len(re.findall(r"for r\d*_offset in (?:range|tl\.range)", text)),
        "kernel_names": names,
    }


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

def gpu_timer(warmup_ms: int, rep_ms: int):
    from triton.testing import do_bench

    def bench(fn, grad_to_none=None):
        return list(do_bench(fn, warmup=warmup_ms, rep=rep_ms, grad_to_none=grad_to_none,
                             quantiles=list(QUANTILES)))

    return bench


def cpu_timer(repeat: int):
    def bench(fn, grad_to_none=None):
        fn()
        times = []
        for _ in range(repeat):
            for g in grad_to_none or ():
                g.grad = None
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e3)
        q = statistics.quantiles(times, n=10, method="inclusive") if len(times) > 1 else times * 9
        return [q[0], statistics.median(times), q[-1]]

    return bench


def host_ms(fn, device, calls=10) -> float:
    """Python time to issue one call (no synchronisation inside): launch overhead per call."""
    fn()
    sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    issued = time.perf_counter() - start
    sync(device)
    return issued / calls * 1e3


def kernel_breakdown(fn, device, calls=3, top=8) -> list:
    """Device time per call of the heaviest kernels, from the PyTorch profiler."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    sync(device)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        sync(device)
    rows = []
    for e in prof.key_averages():
        us = getattr(e, "self_device_time_total", None)
        if us is None:
            us = getattr(e, "self_cuda_time_total", 0)
        if us > 0:
            rows.append({"kernel": e.key[:120], "us": round(us / calls, 2), "launches": e.count / calls})
    rows.sort(key=lambda r: -r["us"])
    return rows[:top]


# ---------------------------------------------------------------------------
# Ceilings
# ---------------------------------------------------------------------------

def measure_ceilings(bench, device, tiny: bool) -> dict:
    n = (1 << 16) if tiny else (1 << 28)  # float32 elements: 1 GiB at full size
    src = torch.randn(n, device=device)
    dst = torch.empty_like(src)
    copy_ms = bench(lambda: dst.copy_(src))[1]
    copy_bytes = 2 * src.numel() * src.element_size()
    del src, dst
    m = 256 if tiny else 8192
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a = torch.randn(m, m, device=device, dtype=dtype)
    b = torch.randn(m, m, device=device, dtype=dtype)
    c = torch.empty(m, m, device=device, dtype=dtype)
    mm_ms = bench(lambda: torch.mm(a, b, out=c))[1]
    return {
        "copy_bytes": copy_bytes,
        "copy_ms": copy_ms,
        "copy_gbps": copy_bytes / copy_ms / 1e6,
        "matmul_shape": f"{m}x{m}x{m} {str(dtype).replace('torch.', '')}",
        "matmul_ms": mm_ms,
        "matmul_tflops": 2 * m ** 3 / mm_ms / 1e9,
    }


# ---------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------

def compile_order(rounds: int) -> list[str]:
    """stock, ext, ext, stock, stock, ext, ...: each pair reverses the last."""
    order = []
    for i in range(rounds):
        order += list(BACKENDS) if i % 2 == 0 else list(reversed(BACKENDS))
    return order


def tensor_bytes(*tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors if isinstance(t, torch.Tensor))


def run_case(case: Case, opts, bench, ceilings, deadline) -> tuple[dict, dict]:
    device = opts.device
    args = case.make(device, case.dtype, 1000)
    ref = reference(case, args)
    # One eager call first: cuBLAS/cuDNN pick and cache their plans for these shapes on first use,
    # a cost that would otherwise land on whichever backend compiles first.
    with torch.no_grad() if not case.train else contextlib.nullcontext():
        out = case.fn(*args)
    if case.train:
        out.backward()
    del out
    clear_grads(args)
    sync(device)
    row = {
        "name": case.name, "title": case.title, "shape": case.shape,
        "dtype": str(case.dtype).replace("torch.", ""), "mode": case.mode, "bound": case.bound,
        "train": case.train, "tolerance": tolerance(case),
    }
    sides = {b: {"compile_s": [], "rel_err": [], "triton_cache_files": []} for b in BACKENDS}
    compiled, first_codes, normalized = {}, {}, {}
    rounds = case.compile_rounds if time.monotonic() < deadline else 1
    if opts.compile_rounds:
        rounds = min(rounds, opts.compile_rounds)
    order = compile_order(rounds)
    for i, backend in enumerate(order):
        if i >= len(BACKENDS) and time.monotonic() > deadline:
            break
        clear_grads(args)
        comp = compile_one(case, backend, args, device, opts.cache_root)
        errs = check(case, comp.output, args, ref)
        sides[backend]["compile_s"].append(round(comp.seconds, 3))
        sides[backend]["rel_err"].append(errs)
        sides[backend]["triton_cache_files"].append(comp.triton_cache_files)
        compiled[backend] = comp
        if backend not in first_codes:
            first_codes[backend] = comp.codes
            normalized[backend] = [normalize_code(c, comp.cache_dir) for c in comp.codes]
        del comp.output
    row["compile_order"] = order[: sum(len(s["compile_s"]) for s in sides.values())]
    worst = max(max(e.values()) for s in sides.values() for e in s["rel_err"])
    row["max_rel_err"] = worst
    row["correct"] = worst <= tolerance(case)
    if case.train:
        out_bytes = 0
    else:
        out = call(compiled["stock"].fn, compiled["stock"].inputs)
        out_bytes = tensor_bytes(*out)
        row["ext_vs_stock_rel_diff"] = rel_err(call(compiled["ext"].fn, compiled["ext"].inputs)[0], out[0])
        del out
    row["bytes"] = tensor_bytes(*args) + out_bytes
    row["flops"] = case.flops
    stock_code, ext_code = ("\n".join(normalized[k]) for k in BACKENDS)
    row["same_code"] = stock_code == ext_code
    row["code_sha1"] = {k: hashlib.sha1("\n".join(normalized[k]).encode()).hexdigest()[:12] for k in BACKENDS}
    row["code_diff_lines"] = sum(
        1 for line in difflib.unified_diff(stock_code.splitlines(), ext_code.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )
    row["code"] = code_stats(first_codes["stock"])
    # A version that fails the check is still timed (and flagged): its time is evidence too.

    params = [t for t in args if t.requires_grad] or None

    def runner(backend):
        comp = compiled[backend]
        if case.train:
            return lambda: call(comp.fn, comp.inputs)[0].backward()
        return lambda: call(comp.fn, comp.inputs)

    n_rounds = opts.rounds if time.monotonic() < deadline else max(2, opts.rounds // 2)
    for s in sides.values():
        s["rounds"] = []
    for r in range(n_rounds):
        fresh = case.make(device, case.dtype, r)  # new random values, same tensors
        with torch.no_grad():
            for dst, src in zip(args, fresh):
                dst.copy_(src)
        del fresh
        for backend in BACKENDS if r % 2 == 0 else reversed(BACKENDS):
            clear_grads(args)
            sides[backend]["rounds"].append(bench(runner(backend), grad_to_none=params))
    for backend in BACKENDS:
        s = sides[backend]
        med = [q[1] for q in s["rounds"]]
        s["ms"] = statistics.median(med)
        s["ms_min"], s["ms_max"] = min(med), max(med)
        s["spread_pct"] = 100 * (max(med) - min(med)) / s["ms"]
        s["p10_ms"] = statistics.median(q[0] for q in s["rounds"])
        s["p90_ms"] = statistics.median(q[2] for q in s["rounds"])
        s["compile_s_median"] = statistics.median(s["compile_s"])
        if case.bound == "memory":
            s["gbps"] = row["bytes"] / s["ms"] / 1e6
            s["fraction_of_ceiling"] = s["gbps"] / ceilings["copy_gbps"]
        else:
            s["tflops"] = case.flops / s["ms"] / 1e9
            s["fraction_of_ceiling"] = s["tflops"] / ceilings["matmul_tflops"]
        clear_grads(args)
        s["host_ms"] = host_ms(runner(backend), device)
        clear_grads(args)
    pairs = [e[1] / s_[1] for s_, e in zip(sides["stock"]["rounds"], sides["ext"]["rounds"])]
    row["ratio"] = sides["ext"]["ms"] / sides["stock"]["ms"]
    row["ratio_min"], row["ratio_max"] = min(pairs), max(pairs)
    row["compile_ratio"] = sides["ext"]["compile_s_median"] / sides["stock"]["compile_s_median"]
    if device == "cuda" and opts.profile and time.monotonic() < deadline:
        for backend in BACKENDS:
            clear_grads(args)
            try:
                sides[backend]["kernels"] = kernel_breakdown(runner(backend), device)
            except Exception as exc:  # the profiler is evidence, not a result
                sides[backend]["kernels_error"] = repr(exc)[:300]
    clear_grads(args)
    row.update(sides)
    row["meets"] = {
        "ratio": row["ratio"] <= TARGETS["ratio_max"],
        "compile_ratio": row["compile_ratio"] <= TARGETS["compile_ratio_max"],
    }
    if case.bound == "memory":
        row["meets"]["bandwidth"] = min(sides[b]["fraction_of_ceiling"] for b in BACKENDS) >= TARGETS[
            "bandwidth_min_fraction"]
    codes = {b: normalized[b] for b in BACKENDS}
    return row, codes


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------

def warm_up(device, cache_root):
    """Compile small graphs with each backend once, so process start-up costs (compile
    workers, imports, handles) fall on neither side's measured compiles."""
    names = ["pointwise_chain", "softmax", "mlp", "transformer_block", "training_step"]
    if device == "cpu":
        names.remove("training_step")  # the CPU interpreter crashes in one of its backward kernels
    warm = [c for c in build_cases(TINY, device) if c.name in names]
    for backend in BACKENDS:
        for case in warm:
            args = case.make(device, case.dtype, 0)
            compile_one(case, backend, args, device, cache_root)


def environment(device) -> dict:
    import triton

    import ext_codegen

    info = {
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "ext_codegen": ext_codegen.__version__,
        "cuda": torch.version.cuda,
    }
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10
        ).stdout.strip() or None
    except Exception:
        info["git_commit"] = None
    if device == "cuda":
        p = torch.cuda.get_device_properties(0)
        dev = {"name": p.name, "capability": f"{p.major}.{p.minor}", "sm_count": p.multi_processor_count,
               "memory_gib": round(p.total_memory / 2 ** 30, 1)}
    else:
        dev = {"name": f"CPU ({platform.machine()}, {os.cpu_count()} cores)"}
    return {"device": dev, "versions": info}


def run(opts) -> dict:
    """Run the benchmark with Inductor's caches off, restoring the setting afterwards (tests call it in-process)."""
    from torch._inductor import config

    with config.patch(force_disable_caches=True), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*force_disable_caches.*")
        return _run(opts)


def _run(opts) -> dict:
    started = time.monotonic()
    deadline = started + opts.budget_s
    device = opts.device
    sizes = TINY if opts.tiny else FULL
    cases = build_cases(sizes, device)
    if opts.cases:
        wanted = set(opts.cases.split(","))
        cases = [c for c in cases if c.name in wanted]
    if device == "cuda":
        bench = gpu_timer(opts.warmup_ms, opts.rep_ms)
    else:
        bench = cpu_timer(opts.cpu_repeat)
    os.makedirs(opts.cache_root, exist_ok=True)
    result = {
        "benchmark": "gpu_parity",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **environment(device),
        "settings": {
            "tiny": opts.tiny, "rounds": opts.rounds, "warm_up": opts.warm_up, "warmup_ms": opts.warmup_ms, "rep_ms": opts.rep_ms,
            "quantiles": list(QUANTILES), "caches": "force_disable_caches=True; a fresh Inductor and Triton "
            "cache directory per compile (torch._inductor.utils.fresh_cache)",
            "mlp_mode": MLP_MODE, "mlp_gemm_backends": "TRITON", "flops_convention": (
                "matrix products and causal attention (lower triangle); training step = 3x forward"),
        },
        "targets": TARGETS,
    }
    if opts.warm_up:
        print(f"[{time.monotonic() - started:6.1f}s] warm-up", flush=True)
        warm_up(device, opts.cache_root)
    print(f"[{time.monotonic() - started:6.1f}s] ceilings", flush=True)
    result["ceilings"] = measure_ceilings(bench, device, opts.tiny)
    print("   ", json.dumps(result["ceilings"]), flush=True)
    result["cases"] = []
    all_codes = {}
    for case in cases:
        print(f"[{time.monotonic() - started:6.1f}s] {case.name} {case.shape}", flush=True)
        try:
            row, codes = run_case(case, opts, bench, result["ceilings"], deadline)
            all_codes[case.name] = codes
        except Exception as exc:
            import traceback

            traceback.print_exc()
            row = {"name": case.name, "title": case.title, "shape": case.shape, "bound": case.bound,
                   "error": f"{type(exc).__name__}: {exc}"[:2000]}
        result["cases"].append(row)
        if "ratio" in row:
            print(f"    stock {row['stock']['ms']:.4f} ms  ext {row['ext']['ms']:.4f} ms  ratio {row['ratio']:.4f} "
                  f"[{row['ratio_min']:.4f}, {row['ratio_max']:.4f}]  compile {row['stock']['compile_s']} / "
                  f"{row['ext']['compile_s']} s  same_code {row['same_code']}", flush=True)
        result["elapsed_s"] = round(time.monotonic() - started, 1)
        C.write_json(result, opts.out)
        torch._dynamo.reset()
        if device == "cuda":
            torch.cuda.empty_cache()
    if opts.code_out:
        C.write_json(all_codes, opts.code_out)
    shutil.rmtree(opts.cache_root, ignore_errors=True)
    return result


def summary(result: dict) -> str:
    """One line per case for the terminal; the docs' table is rendered from the JSON."""
    lines = []
    for row in result["cases"]:
        if "ratio" not in row:
            lines.append(f"{row['name']:16s} failed: {row.get('error', 'no result').splitlines()[0][:100]}")
            continue
        lines.append(f"{row['name']:16s} stock {row['stock']['ms']:.4f} ms  ext {row['ext']['ms']:.4f} ms  "
                     f"ext/stock {row['ratio']:.3f}  compile ratio {row['compile_ratio']:.2f}  "
                     f"{'correct' if row['correct'] else 'OVER TOLERANCE'}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON to write (default: %(default)s)")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                   help="cpu only checks the script (stock C++ against the interpreter)")
    p.add_argument("--tiny", action="store_true", help="tiny sizes (tests, dry runs)")
    p.add_argument("--cases", default="", help="comma-separated subset of case names")
    p.add_argument("--rounds", type=int, default=8, help="timing rounds per case (backend order alternates)")
    p.add_argument("--warmup-ms", type=int, default=25)
    p.add_argument("--rep-ms", type=int, default=200)
    p.add_argument("--cpu-repeat", type=int, default=3)
    p.add_argument("--compile-rounds", type=int, default=0,
                   help="at most this many compiles per backend and case (default: each case's own)")
    p.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                   help="skip the start-up compiles (then the first measured compile pays process start-up)")
    p.add_argument("--budget-s", type=float, default=420,
                   help="after this many seconds, skip extra compile rounds, half the timing rounds, no profile")
    p.add_argument("--no-profile", dest="profile", action="store_false", help="skip the per-kernel profile")
    p.add_argument("--code-out", default="", help="also write each backend's generated code (normalized)")
    opts = p.parse_args(argv)
    opts.cache_root = tempfile.mkdtemp(prefix="gpu_parity_cache_")
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    if opts.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU: use --device cpu --tiny to check the script", file=sys.stderr)
        return 2
    result = run(opts)
    print(summary(result))
    return 0 if all("ratio" in r for r in result["cases"]) else 1


if __name__ == "__main__":
    sys.exit(main())
