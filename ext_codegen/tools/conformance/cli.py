"""The command line: ``python -m ext_codegen conformance [...]`` (its options and :func:`main`).

:func:`main` runs a sweep (:mod:`.plan`), or with ``--merge`` only merges
reports (``--replace-all-samples``: the first one's all-samples rows are
dropped first), prints the summary and writes the reports to ``--out``.  With
``--worker BACKEND`` (not shown in ``--help``) it is a worker process instead
(:mod:`.workers`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ...names import HOST_DEVICES
from . import report
from .plan import Plan, earlier_rows, make_plan, row_key, run_plan, stock_tasks_where_needed
from .progress import Progress
from .provenance import USER_PROG, user_command
from .report_files import write_all
from .report_terminal import terminal_summary
from .workers import worker_main

DTYPES = report.DTYPE_ORDER
BACKENDS = ("ext", "stock")


def _parse_samples(text: str) -> int | None:
    if text == "all":
        return None
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("--samples takes a positive number or 'all'")
    return n


def _parse_list(values: list[str]) -> list[str]:
    return [v for item in values for v in item.split(",") if v]


def build_parser(prog: str = USER_PROG) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Run PyTorch's OpInfo samples through torch.compile with the extension backend, "
        "compare with eager and write a report.",
    )
    p.add_argument("--ops", nargs="+", metavar="PATTERN",
                   help="ops to run: exact names, globs such as 'nn.functional.*', or substrings (default: all)")
    p.add_argument("--dtypes", nargs="+", default=["float32"], metavar="DTYPE",
                   help=f"dtypes, space or comma separated, or 'all' ({', '.join(DTYPES)}); default float32")
    p.add_argument("--samples", type=_parse_samples, default=1, metavar="N|all",
                   help="samples per op: the first N, or 'all' (default 1)")
    p.add_argument("--compare-stock", nargs="?", const="all", choices=("all", "where-needed"), default=None,
                   help="also run stock Inductor (C++ kernels) on the same samples: for every op (the default), "
                   "or 'where-needed': only for the ops the extension did not match, which is enough to show "
                   "that the extension matches at least as many ops as stock Inductor, in a third of the time")
    p.add_argument("--backends", nargs="+", choices=BACKENDS, default=None, help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="time limit per op and backend (default 180, or 900 with --samples all)")
    p.add_argument("--device", choices=HOST_DEVICES, default="cpu",
                   help="the device the extension backend compiles for: samples are made on cpu and copied "
                        "there, results copied back (default cpu; stock Inductor always runs on cpu)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes per backend running at once (default 1)")
    p.add_argument("--out", metavar="DIR",
                   help="write conformance.json, conformance.md, conformance.html and conformance.png here")
    p.add_argument("--name", default="conformance", help="file name stem of the reports (default conformance)")
    p.add_argument("--resume", action="store_true",
                   help="keep the rows an earlier, interrupted run with the same --out and --name wrote "
                   "(NAME.rows.jsonl) and run only what is missing")
    p.add_argument("--merge", nargs="+", metavar="JSON",
                   help="run nothing: merge these JSON reports (oldest first; a later report's row replaces an "
                   "earlier one for the same op, dtype, samples and backend) and write the reports to --out")
    p.add_argument("--replace-all-samples", action="store_true",
                   help="with --merge: drop the first report's all-samples rows and runs, so that complete "
                   "all-samples runs in the later reports replace partial ones instead of mixing with them")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None, prog: str = USER_PROG) -> int:
    """Run the tool; the exit status is 1 when :func:`.report.own_mismatches` finds a mismatch."""
    args = build_parser(prog).parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.device)

    if args.replace_all_samples and not args.merge:
        raise SystemExit("--replace-all-samples needs --merge (it changes what is merged)")
    if args.merge:
        docs = [report.load(p) for p in args.merge]
        if args.replace_all_samples:
            docs[0] = report.without_all_samples(docs[0])
        data = report.merge(docs)
        print(terminal_summary(data))
        if args.out:
            for path in write_all(data, args.out, args.name):
                print(f"wrote {path}")
        return 0

    dtypes = _parse_list(args.dtypes)
    if "all" in dtypes:
        dtypes = list(DTYPES)
    for d in dtypes:
        if d not in DTYPES:
            raise SystemExit(f"unknown dtype {d!r}; choose from {', '.join(DTYPES)}")
    backends = args.backends or (["ext", "stock"] if args.compare_stock == "all" else ["ext"])
    if args.resume and not args.out:
        raise SystemExit("--resume needs --out (the rows of the earlier run are in --out)")
    if args.timeout is None:
        args.timeout = 900.0 if args.samples is None else 180.0
    start = time.time()
    plan = make_plan(args.ops and _parse_list(args.ops), dtypes, backends, args.samples)
    if not plan.tasks:
        print("no op matches the filter for these dtypes", file=sys.stderr)
        return 2
    log_dir = rows_path = None
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        log_dir = os.path.join(args.out, "logs")
        os.makedirs(log_dir, exist_ok=True)
        rows_path = os.path.join(args.out, f"{args.name}.rows.jsonl")
        if os.path.exists(rows_path) and not args.resume:
            os.replace(rows_path, rows_path + ".previous")  # an earlier run's rows are kept, once
    earlier = earlier_rows(rows_path) if args.resume else []
    done = {row_key(r) for r in earlier}
    plan.tasks = [t for t in plan.tasks if row_key(t.row()) not in done]
    if earlier:
        print(f"resuming: {len(earlier)} rows of the earlier run kept", file=sys.stderr)
    n_ops = len({t.index for t in plan.tasks})
    mode = "all samples" if args.samples is None else f"first {args.samples} sample(s)"
    print(f"conformance: {n_ops} ops x {', '.join(dtypes)} x {', '.join(backends)} ({mode}, on {args.device}), "
          f"{len(plan.tasks)} runs, timeout {args.timeout:g} s", file=sys.stderr)
    progress = None if args.quiet else Progress(len(plan.tasks))
    rows = earlier + run_plan(plan, args.timeout, args.jobs, log_dir, rows_path, progress, args.device)
    if args.compare_stock == "where-needed":
        stock = Plan(tasks=stock_tasks_where_needed(rows))
        done = {row_key(r) for r in rows}
        stock.tasks = [t for t in stock.tasks if row_key(t.row()) not in done]
        if stock.tasks:
            print(f"stock Inductor on the {len(stock.tasks)} runs the extension did not match", file=sys.stderr)
        rows += run_plan(stock, args.timeout, args.jobs, log_dir, rows_path,
                         None if args.quiet else Progress(len(stock.tasks)))
        backends = [*backends, "stock (where needed)"]
    data = report.build(rows, options={
        "ops": args.ops, "dtypes": dtypes, "samples": "all" if args.samples is None else args.samples,
        "backends": backends, "timeout": args.timeout, "jobs": args.jobs, "device": args.device,
    }, wall_seconds=time.time() - start, command=user_command(argv if argv is not None else sys.argv[1:]))
    print(terminal_summary(data))
    if args.out:
        for path in write_all(data, args.out, args.name):
            print(f"wrote {path}")
    return 1 if report.own_mismatches(rows) else 0
