"""``python -m ext_codegen`` prints a real kernel and passes its own check."""

import subprocess
import sys


def test_main_job_runs_and_checks():
    done = subprocess.run([sys.executable, "-m", "ext_codegen"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "@triton.jit" in out
    assert ".run(" in out
    assert ": OK" in out
