"""Eager vs stock Inductor (C++) vs ext_codegen (Triton interpreter) on this machine's CPU.

``python benchmarks/cpu_interpreter.py`` writes ``benchmarks/results/cpu_interpreter.json``;
``python benchmarks/render.py`` turns it into the docs table.  All three run in
one process: eager and stock first, then the backend is registered and the same
functions are compiled again.  Each time is the median of ``--repeat`` calls after
one warm-up call (which also compiles); results are checked against float64 eager.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from cases import CASES, make_inputs  # noqa: E402

# (case, rows, cols): the two cases of the issue, then the GPU set at up to 2^22 elements.
SIZES = [
    ("pointwise_chain", 1, 1 << 20),
    ("row_sum_plus_max", 1024, 1024),
    ("softmax", 4096, 1024),
    ("layer_norm", 4096, 1024),
    ("rms_norm", 4096, 1024),
    ("column_sum", 4096, 1024),
]


def median_ms(fn, args, repeat):
    fn(*args)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def check(out, fn, args):
    ref = fn(*(a.double() for a in args))
    torch.testing.assert_close(out.double(), ref, atol=1e-3, rtol=1e-3)  # float32 sums of 1024 terms


def main(argv=None):
    import ext_codegen
    from ext_codegen import interpreter

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--scale", type=float, default=1.0, help="shrink sizes (tests use a tiny scale)")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "cpu_interpreter.json"))
    args = p.parse_args(argv)

    sizes = [(n, max(1, int(r * args.scale)), max(8, int(c * args.scale))) for n, r, c in SIZES]
    rows = {}
    for name, r, c in sizes:
        fn, inputs = CASES[name], make_inputs(name, r, c, "cpu")
        torch._dynamo.reset()
        stock = torch.compile(fn)
        rows[name] = {
            "shape": [r, c],
            "elements": r * c,
            "eager_ms": median_ms(fn, inputs, args.repeat),
            "stock_ms": median_ms(stock, inputs, args.repeat),
        }
        check(stock(*inputs), fn, inputs)
    with ext_codegen.registered("cpu"):
        for name, r, c in sizes:
            fn, inputs = CASES[name], make_inputs(name, r, c, "cpu")
            torch._dynamo.reset()
            ext = torch.compile(fn)
            ext(*inputs)
            before = interpreter.program_count
            rows[name]["ext_ms"] = median_ms(ext, inputs, args.repeat)
            rows[name]["programs_per_call"] = (interpreter.program_count - before) // (args.repeat + 1)
            check(ext(*inputs), fn, inputs)
    for row in rows.values():
        row["ext_over_eager"] = row["ext_ms"] / row["eager_ms"]
    result = {
        "benchmark": "cpu_interpreter",
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "triton": __import__("triton").__version__,
        "repeat": args.repeat,
        "elements_per_program": interpreter.ELEMENTS_PER_PROGRAM,
        "cases": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    for name, row in rows.items():
        print(f"{name:18s} eager {row['eager_ms']:8.2f} ms  stock {row['stock_ms']:8.2f} ms  "
              f"ext {row['ext_ms']:9.2f} ms  ext/eager {row['ext_over_eager']:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
