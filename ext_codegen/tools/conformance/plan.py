"""The runs a sweep is made of, and running them: ops x dtypes x backends on lanes of workers.

:func:`make_plan` turns the command line's choices into :class:`~.workers.Task`
objects, :func:`run_plan` runs them on ``--jobs`` lanes and appends each row to
``NAME.rows.jsonl`` as it comes, so that ``--resume`` (:func:`earlier_rows`)
can keep what an interrupted run finished.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from dataclasses import dataclass, field

import ext_codegen

from .opinfo import select_ops
from .progress import Progress
from .workers import Task, Worker


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    skipped: dict = field(default_factory=dict)


def row_key(row: dict) -> tuple:
    """What makes a row the same run as another: backend, dtype, sample mode, op."""
    return (row["backend"], row["dtype"], row.get("sample_mode", "1"), row["index"])


def earlier_rows(rows_path: str | None) -> list[dict]:
    """The complete rows an interrupted run wrote (a half-written last line is dropped)."""
    if not rows_path or not os.path.exists(rows_path):
        return []
    rows = []
    with open(rows_path) as f:
        for line in f:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def stock_tasks_where_needed(rows: list[dict]) -> list[Task]:
    """Stock Inductor runs for the (op, dtype) rows the extension did not match.

    Where the extension matched every sample, stock Inductor cannot match more
    of that op, so running it there decides nothing; the stock rows made here
    carry ``"where_needed": True`` so that the report does not count them as a
    full stock sweep.
    """
    tasks = []
    for r in rows:
        if r["backend"] == "ext" and r["result"] in ("error", "mismatch"):
            mode = r.get("sample_mode", "1")
            tasks.append(Task("stock", r["dtype"], r["index"], r["op"], None if mode == "all" else int(mode),
                              where_needed=True))
    return tasks


def make_plan(patterns, dtypes, backends, limit) -> Plan:
    """A task per selected op, dtype the op supports on cpu, and backend; ``skipped`` counts the unsupported."""
    import torch

    plan = Plan()
    ops = select_ops(patterns)
    for dtype in dtypes:
        supported = [(i, n) for i, n, op in ops if getattr(torch, dtype) in op.supported_dtypes("cpu")]
        plan.skipped[dtype] = len(ops) - len(supported)
        for i, n in supported:
            for backend in backends:
                plan.tasks.append(Task(backend, dtype, i, n, limit))
    return plan


def run_plan(plan: Plan, timeout: float, jobs: int, log_dir: str | None, rows_path: str | None,
             progress: Progress | None, device: str = "cpu") -> list[dict]:
    """Run every task on ``jobs`` lanes of workers; return the rows in plan order.

    ``device`` is where the extension backend's runs compile (stock's run on cpu).
    """
    env = dict(os.environ)
    env.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONWARNINGS"] = "ignore"
    # Make the package importable by the workers however the parent was started.
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(ext_codegen.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg_root, env.get("PYTHONPATH")) if p)
    todo: queue.Queue = queue.Queue()
    for k, task in enumerate(plan.tasks):
        todo.put((k, task))
    rows: list[dict | None] = [None] * len(plan.tasks)
    lock = threading.Lock()
    rows_file = open(rows_path, "a") if rows_path else None
    failures: list[BaseException] = []

    def lane(n: int) -> None:
        workers: dict[str, Worker] = {}
        try:
            while True:
                try:
                    k, task = todo.get_nowait()
                except queue.Empty:
                    return
                if task.backend not in workers:
                    log = os.path.join(log_dir, f"worker-{task.backend}-{n}.log") if log_dir else None
                    where = device if task.backend == "ext" else "cpu"
                    workers[task.backend] = Worker(task.backend, log, env, where)
                reply = workers[task.backend].run(task, timeout)
                row = {**task.row(), **reply}
                with lock:
                    rows[k] = row
                    if rows_file:
                        rows_file.write(json.dumps(row) + "\n")
                        rows_file.flush()
                    if progress:
                        progress.update(row)
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            failures.append(e)
        finally:
            for w in workers.values():
                w.stop()

    threads = [threading.Thread(target=lane, args=(n,), daemon=True) for n in range(max(1, jobs))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    finally:
        if rows_file:
            rows_file.close()
    if failures:
        raise failures[0]
    return [r for r in rows if r is not None]
