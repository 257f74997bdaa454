"""Run PyTorch's OpInfo samples through ``torch.compile`` and classify each op.

``python -m ext_codegen.conformance --backend ext`` (or ``stock``) compiles the
first sample of every ``op_db`` entry that supports the dtype on cpu and
compares it with eager:

* ``pass``: matched, and (for ``ext``) the interpreter launched our kernels;
* ``fallback``: matched, but no kernel of ours ran (Inductor used aten);
* ``error``: compiling or running raised;
* ``mismatch``: a wrong result;
* ``random``: eager itself differs between two seeds; not counted.

Each op runs in a worker subprocess with a time limit, so a crash or hang
costs one row.  Results are written as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter


def _tree_tensors(x):
    import torch

    if isinstance(x, torch.Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _tree_tensors(item)]
    if isinstance(x, dict):
        return [t for v in x.values() for t in _tree_tensors(v)]
    return []


def _same(a, b, atol, rtol) -> bool:
    import torch

    ta, tb = _tree_tensors(a), _tree_tensors(b)
    if len(ta) != len(tb):
        return False
    for x, y in zip(ta, tb):
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        try:
            torch.testing.assert_close(x, y, atol=atol, rtol=rtol, equal_nan=True)
        except AssertionError:
            return False
    return True


def run_one(op, dtype, backend: str) -> dict:
    import torch

    from . import interpreter

    def call(sample):
        return op(sample.input, *sample.args, **sample.kwargs)

    def sample():
        torch.manual_seed(0)
        return next(iter(op.sample_inputs("cpu", dtype, requires_grad=False)))

    s = sample()
    torch.manual_seed(0)
    ref = call(s)
    torch.manual_seed(1)
    other = call(sample())
    if not _same(ref, other, 0, 0):
        return {"result": "random"}
    torch._dynamo.reset()
    before = interpreter.launch_count
    try:
        torch.manual_seed(0)
        out = torch.compile(call, dynamic=False)(sample())
    except Exception as e:  # noqa: BLE001 - every failure is a row of the report
        return {"result": "error", "why": f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"}
    ran = interpreter.launch_count - before
    tol = dict(atol=1e-4, rtol=1e-4) if dtype.is_floating_point else dict(atol=0, rtol=0)
    if not _same(out, ref, **tol):
        return {"result": "mismatch"}
    if backend == "ext" and ran == 0:
        return {"result": "fallback"}
    return {"result": "pass", "launches": ran}


def worker(backend: str, dtype_name: str, start: int, out_path: str) -> None:
    import torch
    from torch.testing._internal.common_methods_invocations import op_db

    import ext_codegen

    dtype = getattr(torch, dtype_name)
    if backend == "ext":
        ext_codegen.register("cpu")
    with open(out_path, "a") as out:
        for i, op in enumerate(op_db):
            if i < start:
                continue
            name = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
            row = {"index": i, "op": name, "dtype": dtype_name}
            if dtype not in op.supported_dtypes("cpu"):
                continue
            out.write(json.dumps({**row, "result": "started"}) + "\n")
            out.flush()
            t = time.time()
            try:
                row.update(run_one(op, dtype, backend))
            except Exception as e:  # noqa: BLE001
                row.update(result="error", why=f"{type(e).__name__}: {e}"[:200])
            row["seconds"] = round(time.time() - t, 2)
            out.write(json.dumps(row) + "\n")
            out.flush()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ext_codegen.conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["ext", "stock"], default="ext")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--out", default="conformance.jsonl")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per op")
    parser.add_argument("--worker-start", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_start is not None:
        worker(args.backend, args.dtype, args.worker_start, args.out)
        return 0
    if os.path.exists(args.out):
        os.remove(args.out)
    start = 0
    while True:
        cmd = [sys.executable, "-m", "ext_codegen.conformance", "--backend", args.backend, "--dtype", args.dtype,
               "--out", args.out, "--worker-start", str(start)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        last_index, last_state = _watch(proc, args.out, args.timeout)
        if last_state == "done":
            break
        with open(args.out, "a") as out:  # the op in progress crashed or hung
            out.write(json.dumps({"index": last_index, "result": "error", "why": last_state}) + "\n")
        start = last_index + 1
    rows = [json.loads(line) for line in open(args.out)]
    final = {r["index"]: r for r in rows if r["result"] != "started"}
    counts = Counter(r["result"] for r in final.values())
    print(json.dumps({"backend": args.backend, "dtype": args.dtype, **counts}))
    return 0


def _watch(proc, path, timeout):
    """Wait for the worker; return (index of the op in progress, 'done'|'crash'|'timeout')."""
    last_index, started_at = -1, time.time()
    seen = 0
    while True:
        code = proc.poll()
        lines = open(path).read().splitlines() if os.path.exists(path) else []
        if len(lines) != seen:
            seen = len(lines)
            last = json.loads(lines[-1])
            if last["result"] == "started":
                last_index, started_at = last["index"], time.time()
            else:
                last_index = -1
        if code is not None:
            return (last_index, "done" if code == 0 and last_index == -1 else "crash")
        if last_index >= 0 and time.time() - started_at > timeout:
            proc.kill()
            proc.wait()
            return (last_index, "timeout")
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
