"""The progress bar a run draws on stderr while its workers run."""

from __future__ import annotations

import sys
import time
from collections import Counter

from .report import RESULTS


class Progress:
    """A plain-text progress bar on stderr: one line redrawn on a terminal, a line now and then otherwise."""

    def __init__(self, total: int, stream=sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.done, self.counts, self.start = 0, Counter(), time.time()
        self.tty = stream.isatty()
        self.last_print = 0.0

    def update(self, row: dict) -> None:
        self.done += 1
        self.counts[row["result"]] += 1
        now = time.time()
        if not self.tty and now - self.last_print < 15 and self.done != self.total:
            return
        self.last_print = now
        elapsed = now - self.start
        left = elapsed / self.done * (self.total - self.done)
        filled = int(self.width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        counts = " ".join(f"{k} {self.counts[k]}" for k in RESULTS if self.counts[k])
        text = (f"[{bar}] {self.done}/{self.total} {_clock(elapsed)} (~{_clock(left)} left) {counts} | "
                f"{row['backend']} {row['dtype']} {row['op']}")
        if self.tty:
            cols = _terminal_columns()
            self.stream.write("\r" + text[: cols - 1].ljust(cols - 1))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _terminal_columns() -> int:
    import shutil

    return shutil.get_terminal_size((100, 20)).columns


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
