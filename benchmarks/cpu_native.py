"""Eager vs stock C++ Inductor vs ext_codegen's interpreter vs its native path, on this machine's CPU.

``python benchmarks/cpu_native.py`` writes ``docs/results/benchmarks/cpu_native.json``; the docs
build turns it into the table of ``docs/native.md`` (``docs/_ext/render_results.py``, which reads
the JSON and never imports this script).  ``--tiny`` runs two small cases and a small memory case
in a few tens of seconds (the test does).

The cases are ``benchmarks/cpu_interpreter.py``'s ``SIZES`` (the twelve of ``benchmarks/cases.py``,
the same shapes), plus one large-tensor case for peak memory.  The run is split over fresh
processes, because Inductor and Triton keep compiled kernels in memory per kernel source, not per
``EXT_CODEGEN_NATIVE``: a process that has compiled a kernel one way serves it again the other way.

* **native worker** (``EXT_CODEGEN_NATIVE=1``): every case's stock C++ Inductor graph is compiled
  first (registering ``ext_codegen`` resets Dynamo, so the callable Inductor returned is kept and
  called directly), then ``ext_codegen`` is registered and each case compiled again; eager, stock
  and native are timed in interleaved rounds.
* **interpreter worker** (``EXT_CODEGEN_NATIVE=0``): eager and the interpreter, interleaved, per case.
* **memory workers**: one fresh process per backend (eager, stock, interpreter, native) runs the
  large case twice and reports its peak resident set (``ru_maxrss``).

Every worker starts with empty caches (Triton's, Inductor's, the native libraries'), so first calls
and compile times are cold, and with one BLAS thread (numpy's OpenBLAS workers, which the
interpreter wakes, keep spinning after use and take the cores from whatever is timed next).  A
sample repeats a call until it has taken 5 ms; the JSON keeps the median and the best round of each
column.  Per native kernel the compile time is the plugin's own stages, timed where they run:
optimisation passes and lowering to C (``Stages.to_c``), ``gcc`` and link (``Stages.to_binary``)
and loading the library (``route.load``); Triton's front end (Python to Triton IR), which the
interpreter path pays too, is not in it.  Results are checked against eager in float64 before
anything is timed.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

#: The one home of committed results, which the docs render.
DEFAULT_OUT = os.path.join(ROOT, "docs", "results", "benchmarks", "cpu_native.json")

#: Issue 21, point 7.
TARGETS = {"max_over_eager": 3.0, "max_over_stock": 3.0, "median_over_eager": 1.5, "median_over_stock": 1.5,
           "compile_median_ms": 100.0, "peak_memory_over_stock": 1.5, "first_call_over_interpreter_s": 1.0}

#: The large-tensor case: rows x cols float32 (6144 x 6144: 151 MB per tensor).
MEMORY_SHAPE = (6144, 6144)
TINY_MEMORY_SHAPE = (256, 512)
TINY_CASES = [("softmax", 64, 256)]

SAMPLE_MS = 5.0


def memory_chain(x, w, b):
    """LayerNorm, GELU, a residual and a softmax over rows: an op chain of a model's size on one large tensor."""
    import torch
    import torch.nn.functional as F

    h = F.layer_norm(x, x.shape[-1:], w, b)
    return torch.softmax(F.gelu(h) * 2 + x, -1)


# ---------------------------------------------------------------- in a worker

def _sample_ms(fn, args, min_ms=SAMPLE_MS):
    calls, t = 0, time.perf_counter()
    while True:
        fn(*args)
        calls += 1
        elapsed = (time.perf_counter() - t) * 1e3
        if elapsed >= min_ms:
            return elapsed / calls


def _error(out, fn, args):
    """Max abs error against eager in float64, and whether it is within the interpreter benchmark's tolerance."""
    import torch

    ref = fn(*(a.double() for a in args))
    outs, refs = torch.utils._pytree.tree_leaves(out), torch.utils._pytree.tree_leaves(ref)
    err = max((o.double() - r).abs().max().item() for o, r in zip(outs, refs))
    try:
        for o, r in zip(outs, refs):
            torch.testing.assert_close(o.double(), r, atol=1e-3, rtol=1e-3)
        ok = True
    except AssertionError:
        ok = False
    return err, ok


def _capture(fn, args):
    """Compile ``fn`` with Inductor as configured now; the compiled graph's callable and the first call's seconds."""
    import torch
    from torch._inductor.compile_fx import compile_fx

    graphs = []

    def backend(gm, example_inputs):
        graphs.append(compile_fx(gm, example_inputs))
        return graphs[-1]

    t = time.perf_counter()
    torch.compile(fn, backend=backend)(*args)
    seconds = time.perf_counter() - t
    assert len(graphs) == 1, f"{len(graphs)} graphs"
    return graphs[0], seconds


class _StageTimer:
    """Times the native path's own stages per kernel: lowering (to_c), gcc + link (to_binary), load."""

    def __init__(self):
        from ext_codegen.triton_backend.native import route

        self.route, self.kernels, self.by_hash = route, [], {}
        to_c, to_binary, load = route.Stages.to_c, route.Stages.to_binary, route.load
        timer = self

        def timed_to_c(stages, mod, metadata):
            t = time.perf_counter()
            out = to_c(stages, mod, metadata)
            stages._bench = {"kernel": metadata.get("name", "?"), "lower_ms": (time.perf_counter() - t) * 1e3}
            return out

        def timed_to_binary(stages, c_source, metadata):
            t = time.perf_counter()
            out = to_binary(stages, c_source, metadata)
            row = dict(getattr(stages, "_bench", {}), build_ms=(time.perf_counter() - t) * 1e3,
                       fallback=metadata.get("native_fallback", ""))
            timer.kernels.append(row)
            timer.by_hash[hashlib.sha256(out).hexdigest()] = row
            return out

        def timed_load(binary):
            t = time.perf_counter()
            out = load(binary)
            row = timer.by_hash.get(hashlib.sha256(binary).hexdigest()) if isinstance(binary, bytes) else None
            if row is not None and "load_ms" not in row:
                row["load_ms"] = (time.perf_counter() - t) * 1e3
            return out

        route.Stages.to_c, route.Stages.to_binary, route.load = timed_to_c, timed_to_binary, timed_load


def _counters():
    from ext_codegen.triton_backend import launch
    from ext_codegen.triton_backend.native import route

    return launch.launch_count, route.native_launches, sum(route.fallbacks.values())


def worker_timing(native: bool, cases, rounds: int) -> dict:
    """One process: every case's columns (eager, stock, native; or eager, interpreter), interleaved."""
    import torch
    import torch._inductor.config as config

    import ext_codegen
    from cases import CASES, make_inputs

    config.compile_threads = 1  # compile in this process, where the stage timer sees it
    timer = _StageTimer() if native else None
    data = {name: make_inputs(name, r, c, "cpu") for name, r, c in cases}
    rows = {name: {"shape": [r, c], "elements": r * c} for name, r, c in cases}
    stock = {}
    if native:
        for name, _, _ in cases:
            fn, args = CASES[name], data[name]
            stock[name], rows[name]["stock_first_call_s"] = _capture(fn, args)
            rows[name]["stock_max_abs_err"], rows[name]["stock_matches_eager"] = _error(stock[name](*args), fn, args)
    column = "native" if native else "interpreter"
    with ext_codegen.registered("cpu"):
        for name, _, _ in cases:
            fn, args, row = CASES[name], data[name], rows[name]
            before_kernels = len(timer.kernels) if timer else 0
            ext, row[f"{column}_first_call_s"] = _capture(fn, args)
            row[f"{column}_max_abs_err"], row[f"{column}_matches_eager"] = _error(ext(*args), fn, args)
            launches, natives, fallbacks = _counters()
            ext(*args)
            launches, natives, fallbacks = (after - before for after, before in zip(_counters(),
                                                                                     (launches, natives, fallbacks)))
            row[f"{column}_launches_per_call"] = launches
            if native:
                row["native_kernel_launches_per_call"] = natives
                kernels = timer.kernels[before_kernels:]
                row["kernels"] = kernels
                row["kernels_native"] = sum(not k["fallback"] for k in kernels)
                row["fallbacks"] = sorted({k["fallback"] for k in kernels if k["fallback"]})
            columns = {"eager": fn, "stock": stock.get(name), column: ext}
            columns = {k: v for k, v in columns.items() if v is not None}
            samples = {k: [] for k in columns}
            for _ in range(rounds):
                for k, f in columns.items():
                    samples[k].append(_sample_ms(f, args))
            for k, v in samples.items():
                row[f"{k}_ms"] = statistics.median(v)
                row[f"{k}_best_ms"] = min(v)
            print(f"  {column} worker: {name} " + "  ".join(f"{k} {row[k + '_ms']:.3f}" for k in columns) + " ms",
                  file=sys.stderr, flush=True)
    return {"cases": rows, "torch_threads": torch.get_num_threads()}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker_memory(backend: str, rows: int, cols: int) -> dict:
    """One fresh process: the large case twice on one backend; peak and baseline resident memory."""
    import torch

    import ext_codegen

    g = torch.Generator().manual_seed(0)
    args = (torch.randn(rows, cols, generator=g), 1 + 0.1 * torch.randn(cols, generator=g),
            0.1 * torch.randn(cols, generator=g))
    baseline = _rss_mb()  # the interpreter's import, torch and the inputs
    t = time.perf_counter()
    if backend == "eager":
        fn = memory_chain
    elif backend == "stock":
        fn = torch.compile(memory_chain)
    else:
        ext_codegen.register("cpu")
        fn = torch.compile(memory_chain)
    out = fn(*args)
    first = time.perf_counter() - t
    del out
    t = time.perf_counter()
    out = fn(*args)
    second = time.perf_counter() - t
    launches, natives, _ = _counters()
    from ext_codegen.triton_backend.native import route

    ok = torch.allclose(out, memory_chain(*args), atol=1e-4, rtol=1e-4)
    # ru_maxrss is in KiB on Linux
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"baseline_mb": baseline, "peak_mb": peak, "first_call_s": first, "call_s": second,
            "launches": launches, "native_launches": natives, "matches_eager": bool(ok),
            "fallbacks": dict(route.fallbacks)}


# ---------------------------------------------------------------- the run

def _worker_env(native: bool, scratch: str) -> dict:
    env = dict(os.environ)
    env.pop("EXT_CODEGEN_NATIVE_CHECK", None)
    env["EXT_CODEGEN_NATIVE"] = "1" if native else "0"
    cold = tempfile.mkdtemp(prefix="cold_", dir=scratch)
    env.update(TRITON_CACHE_DIR=os.path.join(cold, "triton"), TORCHINDUCTOR_CACHE_DIR=os.path.join(cold, "inductor"),
               EXT_CODEGEN_CACHE=os.path.join(cold, "ext_codegen"), TORCHINDUCTOR_FX_GRAPH_CACHE="0",
               TORCHINDUCTOR_AUTOGRAD_CACHE="0", OPENBLAS_NUM_THREADS="1",
               # cpu only: the extdev device, which ``import torch`` would load and build in the cold cache, is not timed
               TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _spawn(job: dict, native: bool, scratch: str) -> subprocess.Popen:
    out = tempfile.mktemp(suffix=".json", dir=scratch)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(job), "--worker-out", out]
    proc = subprocess.Popen(cmd, env=_worker_env(native, scratch), cwd=ROOT)
    proc.result_path = out
    return proc


def _collect(proc: subprocess.Popen, timeout: float) -> dict:
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return {"error": f"timed out after {timeout:.0f} s"}
    if rc != 0:
        return {"error": f"worker exited with {rc}"}
    with open(proc.result_path) as f:
        return json.load(f)


def _run_jobs(jobs: list, parallel: int, scratch: str, timeout: float) -> list:
    """Run ``(job, native)`` workers, ``parallel`` at a time, in order; their results in the same order."""
    results, running = [None] * len(jobs), []
    for i, (job, native) in enumerate(jobs):
        running.append((i, _spawn(job, native, scratch)))
        if len(running) >= parallel:
            j, proc = running.pop(0)
            results[j] = _collect(proc, timeout)
    for j, proc in running:
        results[j] = _collect(proc, timeout)
    return results


def _gcc_version() -> str:
    cc = os.environ.get("EXT_CODEGEN_NATIVE_CC", "gcc")
    try:
        return subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "?"


def derive(rows: dict) -> None:
    """Each case's ratios and compile times, from its measured columns.

    ``eager_reference_ms`` is the faster of eager's two medians (beside stock
    and native, and beside the interpreter in the other process): an eager
    column slowed by a stalled worker thread must not flatter native.
    """
    for row in rows.values():
        row["eager_reference_ms"] = min(row["eager_ms"], row.get("eager_with_interpreter_ms", float("inf")))
        row["native_over_eager"] = row["native_ms"] / row["eager_reference_ms"]
        row["native_over_stock"] = row["native_ms"] / row["stock_ms"]
        row["compile_ms"] = [k["lower_ms"] + k["build_ms"] + k.get("load_ms", 0.0) for k in row["kernels"]
                             if not k["fallback"]]


def summarize(cases: dict, memory: dict) -> dict:
    """The targets of issue 21's point 7, each with its number and whether it is met."""
    timed = [r for r in cases.values() if "native_ms" in r and "stock_ms" in r]
    over_eager = [r["native_ms"] / r["eager_ms"] for r in timed]
    over_stock = [r["native_ms"] / r["stock_ms"] for r in timed]
    compile_ms = [k["lower_ms"] + k["build_ms"] + k.get("load_ms", 0.0)
                  for r in timed for k in r.get("kernels", []) if not k["fallback"]]
    kernels = sum(len(r.get("kernels", [])) for r in timed)
    native_kernels = sum(r.get("kernels_native", 0) for r in timed)
    launches = sum(r.get("native_launches_per_call", 0) for r in timed)
    launches_native = sum(r.get("native_kernel_launches_per_call", 0) for r in timed)
    first_gap = [r["native_first_call_s"] - r["interpreter_first_call_s"] for r in timed
                 if "interpreter_first_call_s" in r]
    s = {
        "cases": len(timed),
        "max_over_eager": max(over_eager, default=float("nan")),
        "max_over_stock": max(over_stock, default=float("nan")),
        "median_over_eager": statistics.median(over_eager) if over_eager else float("nan"),
        "median_over_stock": statistics.median(over_stock) if over_stock else float("nan"),
        "cases_within_3x_eager": sum(x <= TARGETS["max_over_eager"] for x in over_eager),
        "cases_within_3x_stock": sum(x <= TARGETS["max_over_stock"] for x in over_stock),
        "compile_median_ms": statistics.median(compile_ms) if compile_ms else float("nan"),
        "compile_max_ms": max(compile_ms, default=float("nan")),
        "kernels": kernels,
        "kernels_native": native_kernels,
        "native_share": native_kernels / kernels if kernels else float("nan"),
        "launches_per_call": launches,
        "launches_native_per_call": launches_native,
        "native_launch_share": launches_native / launches if launches else float("nan"),
        "first_call_max_over_interpreter_s": max(first_gap, default=float("nan")),
        "all_match_eager": all(r.get("native_matches_eager") for r in timed),
    }
    peak = {k: v.get("peak_mb") for k, v in memory.get("backends", {}).items()}
    if peak.get("native") and peak.get("stock"):
        s["peak_memory_over_stock"] = peak["native"] / peak["stock"]
    met = {
        "max_over_eager": s["max_over_eager"] <= TARGETS["max_over_eager"],
        "max_over_stock": s["max_over_stock"] <= TARGETS["max_over_stock"],
        "median_over_eager": s["median_over_eager"] <= TARGETS["median_over_eager"],
        "median_over_stock": s["median_over_stock"] <= TARGETS["median_over_stock"],
        "compile_median_ms": s["compile_median_ms"] <= TARGETS["compile_median_ms"],
        "first_call_over_interpreter_s": s["first_call_max_over_interpreter_s"] <= TARGETS["first_call_over_interpreter_s"],
    }
    if "peak_memory_over_stock" in s:
        met["peak_memory_over_stock"] = s["peak_memory_over_stock"] <= TARGETS["peak_memory_over_stock"]
    s["met"] = met
    return s


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds of eager, stock and native")
    p.add_argument("--interpreter-rounds", type=int, default=3, help="interleaved rounds of eager and the interpreter")
    p.add_argument("--only", nargs="*", help="run only these cases")
    p.add_argument("--tiny", action="store_true", help="two small cases, a small memory case, one round (tests)")
    p.add_argument("--no-memory", action="store_true", help="skip the large-tensor memory case")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON to write (default: %(default)s)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        job = json.loads(args.worker)
        if job["kind"] == "timing":
            result = worker_timing(job["native"], job["cases"], job["rounds"])
        else:
            result = worker_memory(job["backend"], *job["shape"])
        with open(args.worker_out, "w") as f:
            json.dump(result, f)
        return 0

    if args.tiny:
        cases, memory_shape, rounds, interp_rounds, parallel = TINY_CASES, TINY_MEMORY_SHAPE, 1, 1, 2
    else:
        from cpu_interpreter import SIZES

        cases, memory_shape, rounds, interp_rounds, parallel = SIZES, MEMORY_SHAPE, args.rounds, args.interpreter_rounds, 1
    cases = [list(c) for c in cases if not args.only or c[0] in args.only]
    load_before = os.getloadavg()
    started = time.perf_counter()
    scratch = tempfile.mkdtemp(prefix="ext_codegen_bench_native_")
    jobs = [({"kind": "timing", "native": True, "cases": cases, "rounds": rounds}, True),
            ({"kind": "timing", "native": False, "cases": cases, "rounds": interp_rounds}, False)]
    backends = [] if args.no_memory else ["eager", "stock", "native", "interpreter"]
    jobs += [({"kind": "memory", "backend": b, "shape": list(memory_shape)}, b == "native") for b in backends]
    results = _run_jobs(jobs, parallel, scratch, timeout=480)
    native, interp = results[0], results[1]
    for part in (native, interp):
        if "error" in part:
            raise SystemExit(f"cpu_native: a timing worker failed: {part['error']}")
    rows = native["cases"]
    for name, row in interp["cases"].items():
        row = {k: v for k, v in row.items() if k.startswith("interpreter")} | {
            "eager_with_interpreter_ms": row["eager_ms"]}
        rows[name].update(row)
    derive(rows)
    memory = {}
    if backends:
        memory = {"shape": list(memory_shape), "megabytes_per_tensor": memory_shape[0] * memory_shape[1] * 4 / 2**20,
                  "function": "softmax(gelu(layer_norm(x, w, b)) * 2 + x, -1)",
                  "backends": dict(zip(backends, results[2:]))}
    result = {
        "benchmark": "cpu_native",
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": __import__("torch").__version__,
        "triton": __import__("triton").__version__,
        "gcc": _gcc_version(),
        "torch_threads": native.get("torch_threads"),
        "tiny": args.tiny,
        "rounds": rounds,
        "interpreter_rounds": interp_rounds,
        "load_average": [round(x, 2) for x in load_before] + [round(x, 2) for x in os.getloadavg()],
        "targets": TARGETS,
        "cases": rows,
        "memory": memory,
    }
    result["summary"] = summarize(rows, memory)
    result["seconds"] = round(time.perf_counter() - started, 1)
    for name, row in rows.items():
        print(f"{name:18s} eager {row['eager_ms']:8.3f}  stock {row['stock_ms']:8.3f}  "
              f"interp {row.get('interpreter_ms', float('nan')):9.3f}  native {row['native_ms']:8.3f} ms  "
              f"native/eager {row['native_over_eager']:5.2f}  native/stock {row['native_over_stock']:5.2f}  "
              f"kernels {row['kernels_native']}/{len(row['kernels'])}", flush=True)
    print(json.dumps(result["summary"], indent=1))
    from cases import write_json

    write_json(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
