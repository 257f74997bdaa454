"""What ``check_bounds`` costs on the CPU benchmark's cases: compiled call time with the check off and on.

``python benchmarks/bounds_check_cost.py [--rows R --cols C --rounds N]`` prints one line a case: the
best of N interleaved rounds of the compiled function with no instrument installed, then inside
:func:`ext_codegen.tools.debug.check_bounds` (and that the check raised nothing and changed no result).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
import ext_codegen  # noqa: E402
from cases import CASES, make_inputs  # noqa: E402
from ext_codegen.tools import debug  # noqa: E402
from ext_codegen.triton_backend import replay  # noqa: E402


def _time(fn, args) -> float:
    start, calls = time.perf_counter(), 0
    while True:
        fn(*args)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed > 0.02:
            return elapsed / calls * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--cols", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    ext_codegen.register("cpu")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{opts.rows}x{opts.cols} float32, best of {opts.rounds}")
    # A checked launch runs the kernel's body (an instrument turns replay off), so the check's own
    # cost is "on" against "off, no replay"; "off" is a plain call, replayed.
    print(f"{'case':18s} {'off ms':>9s} {'no replay':>10s} {'on ms':>9s} {'on/off':>7s} {'on/no replay':>13s}")
    for name, fn in CASES.items():
        args = make_inputs(name, opts.rows, opts.cols, "cpu")
        compiled = torch.compile(fn)
        want = compiled(*args)
        with debug.check_bounds():
            got = compiled(*args)
        torch.testing.assert_close(got, want, rtol=0, atol=0)
        off, plain, on = [], [], []
        for _ in range(opts.rounds):
            off.append(_time(compiled, args))
            replay.ENABLED = False
            try:
                plain.append(_time(compiled, args))
            finally:
                replay.ENABLED = True
            with debug.check_bounds():
                on.append(_time(compiled, args))
        print(f"{name:18s} {min(off):9.3f} {min(plain):10.3f} {min(on):9.3f} {min(on) / min(off):6.2f}x "
              f"{min(on) / min(plain):12.2f}x", flush=True)


if __name__ == "__main__":
    main()
