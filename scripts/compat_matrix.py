"""Run the checks of the compatibility matrix for this interpreter and record them.

``python scripts/compat_matrix.py run`` runs, with the interpreter that runs it,

* the test suite (``python -m pytest tests``),
* the doctests of the docs and of the package
  (``python -m pytest --doctest-glob="*.md" docs ext_codegen``), when ``docs/`` exists,
* with ``--conformance``, the float32 first-sample OpInfo sweep
  (``python -m ext_codegen conformance``),

then adds or updates this (torch, triton, Python, device) row in
``docs/results/compat_matrix.json`` and rewrites ``docs/results/compat_matrix.md``,
the table that ``docs/compatibility.md`` includes.  ``render`` only rewrites
the table; ``show`` prints it.

A row is updated per check: a run with ``--skip-tests`` keeps the row's
earlier test counts, each check keeping its own date.

Needs only the standard library besides torch and triton, and does not need
the package installed: it runs from the checkout it lives in, so it works on
a GPU machine with ``PYTHONPATH`` pointing at the checkout (Python 3.10+).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "compat_matrix.json"
SCHEMA = "ext_codegen.compat_matrix/1"
CONFORMANCE_RESULTS = ("pass", "fallback", "error", "mismatch", "random")
MAX_LISTED_FAILURES = 15


# ---------------------------------------------------------------------------
# where and what we run on
# ---------------------------------------------------------------------------


def _today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def source_revision() -> str:
    """The checkout's commit, with ``+dirty`` when tracked files differ from it.

    A copy without git (``git archive`` sent to another machine) says which
    commit it is through ``COMPAT_MATRIX_REVISION``; otherwise ``unknown``.
    """
    if os.environ.get("COMPAT_MATRIX_REVISION"):
        return os.environ["COMPAT_MATRIX_REVISION"]
    commit = _git("rev-parse", "--short=10", "HEAD")
    if commit is None:
        return "unknown"
    # The results this script writes are tracked too; they do not make the source dirty.
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs/results")
    return commit + ("+dirty" if dirty else "")


def environment() -> dict:
    """The row's key (torch, triton, Python, device) and a description of the machine."""
    import torch
    import triton

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the checkout's package, installed or not
    from ext_codegen.tools.conformance.provenance import cpu_model

    if torch.cuda.is_available():
        device = torch.cuda.get_device_name(0)
    else:
        device = "CPU"
    return {
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "device": device,
        "machine": f"{platform.system()} {platform.machine()}, {cpu_model()}, {os.cpu_count()} cores",
    }


def plugin_discoverable() -> bool:
    """Whether Triton will find the package's ``cpu`` backend (its entry point needs an install)."""
    from importlib.metadata import entry_points

    return any(ep.name == "cpu" for ep in entry_points(group="triton.backends"))


def row_key(row: dict) -> tuple:
    python = ".".join(row["python"].split(".")[:2])
    return (row["torch"], row["triton"], python, row["device"])


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------


def _env_for_children() -> dict:
    env = dict(os.environ)
    # The checkout first, so an uninstalled checkout (a GPU machine) imports too.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _test_id(classname: str, name: str) -> str:
    """A readable id: ``docs/page.md``, ``tests/part/test_x.py::test_y``, or a doctest's dotted name."""
    if name.endswith(".md"):
        return classname.rsplit(".", 2)[0].replace(".", "/") + "/" + name
    if name.startswith(classname + ".") or not classname:
        return name
    parts = classname.split(".")
    tail = []
    while parts and parts[-1][:1].isupper():
        tail.insert(0, parts.pop())
    return "/".join(parts) + ".py::" + "::".join([*tail, name])


def parse_junit(path: str) -> dict:
    """Counts and failed test ids from a pytest JUnit XML report."""
    tree = ET.parse(path)
    suites = [tree.getroot()] if tree.getroot().tag == "testsuite" else list(tree.getroot())
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures: list[str] = []
    for suite in suites:
        for case in suite.iter("testcase"):
            name = _test_id(case.get("classname", ""), case.get("name", ""))
            kinds = {child.tag for child in case}
            if "failure" in kinds:
                counts["failed"] += 1
                failures.append(name)
            elif "error" in kinds:
                counts["errors"] += 1
                failures.append(name + " (error)")
            elif "skipped" in kinds:
                counts["skipped"] += 1
            else:
                counts["passed"] += 1
    counts["failures"] = failures[:MAX_LISTED_FAILURES]
    return counts


def run_pytest(args: list[str], log: Path | None = None) -> dict:
    """Run pytest with ``args`` in the checkout; the counts, exit status, duration and date."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = os.path.join(tmp, "junit.xml")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *args]
        print("$", " ".join(cmd[1:]), flush=True)
        start = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, env=_env_for_children(), capture_output=True, text=True)
        seconds = round(time.time() - start, 1)
        output = proc.stdout + proc.stderr
        if log is not None:
            log.write_text(output)
        tail = [line for line in output.splitlines() if line.strip()][-1:] or ["(no output)"]
        print("  ", tail[0], flush=True)
        if not os.path.exists(junit):
            return {"date": _today(), "exit_code": proc.returncode, "seconds": seconds,
                    "passed": 0, "failed": 0, "errors": 1, "skipped": 0,
                    "failures": [f"pytest wrote no report: {tail[0]}"]}
        counts = parse_junit(junit)
    return {"date": _today(), "exit_code": proc.returncode, "seconds": seconds, **counts}


def run_tests(log_dir: Path | None) -> dict:
    return run_pytest(["tests"], log_dir / "tests.log" if log_dir else None)


def run_doctests(log_dir: Path | None) -> dict | None:
    if not (ROOT / "docs").is_dir():
        print("no docs/ directory: doctests not run", flush=True)
        return None
    return run_pytest(["--doctest-glob=*.md", "docs", "ext_codegen"], log_dir / "doctests.log" if log_dir else None)


def _conformance_cli() -> str:
    """``"report"`` for the tool that writes ``conformance.json`` (``--out DIR``), else ``"jsonl"``."""
    proc = subprocess.run([sys.executable, "-m", "ext_codegen", "conformance", "--help"], cwd=ROOT,
                          env=_env_for_children(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"python -m ext_codegen conformance --help failed:\n{proc.stderr[-2000:]}")
    return "report" if "--samples" in proc.stdout else "jsonl"


def run_conformance(jobs: int, timeout: float, log_dir: Path | None, ops: list[str] | None = None) -> dict:
    """The float32, first-sample sweep with the extension backend; counts per result."""
    kind = _conformance_cli()
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "report":
            cmd = [sys.executable, "-m", "ext_codegen", "conformance", "--dtypes", "float32", "--samples", "1",
                   "--jobs", str(jobs), "--timeout", str(timeout), "--out", tmp, "--quiet"]
            if ops:
                cmd += ["--ops", *ops]
        else:
            cmd = [sys.executable, "-m", "ext_codegen", "conformance", "--backend", "ext", "--dtype", "float32",
                   "--timeout", str(timeout), "--out", os.path.join(tmp, "rows.jsonl")]
        print("$", " ".join(cmd[1:]), flush=True)
        proc = subprocess.run(cmd, cwd=ROOT, env=_env_for_children(), capture_output=True, text=True)
        if log_dir is not None:
            (log_dir / "conformance.log").write_text(proc.stdout + proc.stderr)
        if kind == "report":
            path = os.path.join(tmp, "conformance.json")
            if not os.path.exists(path):
                raise RuntimeError(f"the conformance run wrote no report:\n{(proc.stdout + proc.stderr)[-3000:]}")
            with open(path) as f:
                summary = json.load(f)["summary"]
            entry = next(s for s in summary if s["backend"] == "ext" and s["dtype"] == "float32")
            counts = {k: entry.get(k, 0) for k in CONFORMANCE_RESULTS}
            ops = entry.get("ops", sum(counts.values()))
        else:
            last = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            if not last:
                raise RuntimeError(f"the conformance run printed no counts:\n{(proc.stdout + proc.stderr)[-3000:]}")
            data = json.loads(last[-1])
            counts = {k: data.get(k, 0) for k in CONFORMANCE_RESULTS}
            ops = sum(counts.values())
    result = {"date": _today(), "dtype": "float32", "samples": "first", "ops": ops, **counts,
              "seconds": round(time.time() - start, 1), "jobs": jobs if kind == "report" else 1}
    print("  ", ", ".join(f"{k} {result[k]}" for k in CONFORMANCE_RESULTS), f"of {ops} ops", flush=True)
    return result


# ---------------------------------------------------------------------------
# the results file
# ---------------------------------------------------------------------------


def load(path: Path = RESULTS) -> dict:
    if not path.exists():
        return {"schema": SCHEMA, "rows": []}
    data = json.loads(path.read_text())
    if data.get("schema") != SCHEMA:
        raise SystemExit(f"{path}: not a compat matrix file (schema {data.get('schema')!r})")
    return data


def save(data: dict, path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data["rows"].sort(key=sort_key)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def _version_tuple(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.+]", v)[:3])


def sort_key(row: dict) -> tuple:
    return (_version_tuple(row["torch"]), _version_tuple(row["triton"]), row["device"] != "CPU", row["device"],
            _version_tuple(row["python"]))


def update(data: dict, new: dict) -> dict:
    """Merge ``new`` into the row with the same key (checks it has replace the row's), or add it."""
    for row in data["rows"]:
        if row_key(row) == row_key(new):
            for k, v in new.items():
                if v is not None:
                    row[k] = v
            return row
    data["rows"].append(new)
    return new


# ---------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------


def _pytest_cell(result: dict | None) -> str:
    if not result:
        return "not run"
    parts = [f"{result['passed']} passed"]
    bad = result.get("failed", 0) + result.get("errors", 0)
    if bad:
        parts.append(f"**{bad} failed**")
    if result.get("skipped"):
        parts.append(f"{result['skipped']} skipped")
    return ", ".join(parts)


def _conformance_cell(result: dict | None) -> str:
    if not result:
        return "not run"
    cell = f"{result['pass']} pass, {result['fallback']} fallback, {result['error']} error"
    cell += f", **{result['mismatch']} mismatch**" if result["mismatch"] else ", 0 mismatch"
    return cell + f" (of {result['ops']} ops)"


def render_markdown(results: dict) -> str:
    """The matrix as a Markdown table, with the failures and machines listed under it."""
    rows = sorted(results["rows"], key=sort_key)
    lines = [
        "| torch | triton | Python | device | tests | doctests | float32 conformance | run on |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for i, row in enumerate(rows, 1):
        dates = sorted({r["date"] for r in (row.get("tests"), row.get("doctests"), row.get("conformance")) if r})
        when = dates[-1] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else ""
        lines.append(
            f"| {row['torch']} | {row['triton']} | {row['python']} | {row['device']} "
            f"| {_pytest_cell(row.get('tests'))} | {_pytest_cell(row.get('doctests'))} "
            f"| {_conformance_cell(row.get('conformance'))} | {when} [{i}] |"
        )
        checks = {k: row[k] for k in ("tests", "doctests", "conformance") if row.get(k)}
        by_revision: dict[str, list[str]] = {}
        for name, result in checks.items():
            by_revision.setdefault(result.get("revision", "unknown"), []).append(name)
        sources = "; ".join(f"{', '.join(names)} at {rev}" for rev, names in by_revision.items())
        note = f"[{i}] {row['machine']}. {sources[:1].upper() + sources[1:]}."
        for label, key in (("tests", "tests"), ("doctests", "doctests")):
            failures = (row.get(key) or {}).get("failures") or []
            if failures:
                note += f" Failed {label}: " + ", ".join(f"`{f}`" for f in failures) + "."
        if row.get("note"):
            note += " " + row["note"]
        notes.append(note)
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes) + "\n"


def write_markdown(data: dict, path: Path) -> None:
    header = ("<!-- Generated by scripts/compat_matrix.py from compat_matrix.json: "
              "do not edit by hand, run `python scripts/compat_matrix.py render`. -->\n\n")
    path.write_text(header + render_markdown(data))


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/compat_matrix.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the checks for this interpreter and record them")
    run.add_argument("--skip-tests", action="store_true", help="keep the row's earlier test counts")
    run.add_argument("--skip-doctests", action="store_true", help="keep the row's earlier doctest counts")
    run.add_argument("--conformance", action="store_true", help="also run the float32 conformance sweep (minutes)")
    run.add_argument("--jobs", type=int, default=1, help="conformance worker processes (default 1)")
    run.add_argument("--timeout", type=float, default=180.0, help="conformance seconds per op (default 180)")
    run.add_argument("--note", help="a remark printed under the table for this row")
    run.add_argument("--logs", type=Path, help="write the full output of each check into this folder")
    run.add_argument("--dry-run", action="store_true", help="print the row; change no file")
    run.add_argument("--ops", nargs="+", help="trial only (implies --dry-run): conformance of these ops alone")
    for p in (run, sub.add_parser("render", help="rewrite the Markdown table from the JSON"),
              sub.add_parser("show", help="print the Markdown table")):
        p.add_argument("--results", type=Path, default=RESULTS, help=f"the JSON file (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    markdown_path = args.results.with_suffix(".md")
    if args.command == "show":
        print(render_markdown(load(args.results)))
        return 0
    if args.command == "render":
        write_markdown(load(args.results), markdown_path)
        print(f"wrote {markdown_path}")
        return 0

    if args.ops:
        args.dry_run = True
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    row = environment()
    revision = source_revision()
    print(f"torch {row['torch']}, triton {row['triton']}, Python {row['python']}, {row['device']}; "
          f"source {revision}", flush=True)
    if not plugin_discoverable():
        print("warning: no 'cpu' entry point in the triton.backends group: the cpu tests will fail. "
              "Install the checkout first (offline: pip install --no-deps --no-build-isolation -e .)",
              file=sys.stderr, flush=True)
    row["tests"] = None if args.skip_tests else run_tests(args.logs)
    row["doctests"] = None if args.skip_doctests else run_doctests(args.logs)
    row["conformance"] = run_conformance(args.jobs, args.timeout, args.logs, args.ops) if args.conformance else None
    for key in ("tests", "doctests", "conformance"):
        if row[key] is not None:
            row[key]["revision"] = revision
    row["note"] = args.note
    if args.dry_run:
        print(json.dumps(row, indent=1))
        return 0
    data = load(args.results)
    update(data, row)
    save(data, args.results)
    write_markdown(data, markdown_path)
    print(f"wrote {args.results} and {markdown_path}")
    failed = any((row.get(k) or {}).get("failed", 0) + (row.get(k) or {}).get("errors", 0)
                 for k in ("tests", "doctests"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
