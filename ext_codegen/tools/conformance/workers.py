"""The worker processes: each runs ops for one backend, so that a crash or a hang costs one row.

The parent (:mod:`.plan`) starts ``python -m ext_codegen.tools.conformance
--worker BACKEND`` through a :class:`Worker`, writes one :class:`Task` a line
to its stdin, and reads one JSON row a line back; a timeout or a crash becomes
an ``error`` row and the worker is started again for the next task.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from .opinfo import op_name
from .run_op import describe_error, run_op

# ---------------------------------------------------------------- in the worker


def _exit_with_parent() -> None:
    """End this worker when the tool that started it is gone (it may be in the middle of a long op)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def worker_main(backend: str, device: str = "cpu") -> int:
    """Serve tasks from stdin, one JSON line each, answering one JSON line each on the protocol fd."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to the log
    sys.stdout = sys.stderr
    import warnings

    warnings.filterwarnings("ignore")
    import torch
    from torch.testing._internal.common_methods_invocations import op_db

    torch.set_num_threads(1)
    if backend == "ext":
        import ext_codegen

        if not ext_codegen.is_registered(device):  # an autoloaded extdev is registered already
            ext_codegen.register(device)
    _exit_with_parent()
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        op = op_db[task["index"]]
        print(f"== {op_name(op)} {task['dtype']}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            row = run_op(op, getattr(torch, task["dtype"]), task["limit"], backend, device)
        except Exception as e:  # noqa: BLE001 - every failure is a row of the report
            row = {"result": "error", "why": describe_error(e)}
        row["seconds"] = round(time.perf_counter() - start, 3)
        proto.write(json.dumps(row, default=str) + "\n")
    return 0


# ---------------------------------------------------------------- in the parent


@dataclass
class Task:
    """One run: an op (its ``op_db`` index and name), a dtype, a backend and the number of samples."""

    backend: str
    dtype: str
    index: int
    op: str
    limit: int | None
    where_needed: bool = False

    def row(self) -> dict:
        row = {"op": self.op, "index": self.index, "dtype": self.dtype, "backend": self.backend,
               "sample_mode": "all" if self.limit is None else str(self.limit)}
        if self.where_needed:
            row["where_needed"] = True
        return row


class Worker:
    """One worker subprocess for one backend, restarted after a crash or a timeout."""

    READY_TIMEOUT = 300.0

    def __init__(self, backend: str, log_path: str | None, env: dict, device: str = "cpu") -> None:
        self.backend, self.log_path, self.env, self.device = backend, log_path, env, device
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue = queue.Queue()
        self.restarts = 0

    def _start(self) -> None:
        log = open(self.log_path, "a") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ext_codegen.tools.conformance", "--worker", self.backend, "--device", self.device],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1,
            env=self.env, start_new_session=True,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        lines: queue.Queue = queue.Queue()
        self.lines = lines
        proc = self.proc

        def pump():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        first = self._next(self.READY_TIMEOUT)
        if first is None or not first.get("ready"):
            self.stop()
            raise RuntimeError(f"the {self.backend} worker did not start; see {self.log_path or 'its stderr'}")

    def _next(self, timeout: float):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return "timeout"
        return None if line is None else json.loads(line)

    def run(self, task: Task, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        start = time.perf_counter()
        self.proc.stdin.write(json.dumps({"index": task.index, "dtype": task.dtype, "limit": task.limit}) + "\n")
        self.proc.stdin.flush()
        reply = self._next(timeout)
        if isinstance(reply, dict):
            return reply
        seconds = round(time.perf_counter() - start, 3)
        if reply == "timeout":
            self.stop()
            why = f"timeout: no result after {timeout:g} s (worker restarted)"
        else:
            code = self.proc.wait()
            self.proc = None
            self.restarts += 1
            sig = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            why = f"the worker crashed ({sig}) on this op (worker restarted)"
        return {"result": "error", "why": why, "seconds": seconds}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the worker and any compile subprocess it started
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None
        self.restarts += 1
