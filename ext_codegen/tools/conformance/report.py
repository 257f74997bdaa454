"""The report as a JSON document: its schema, building, loading and merging it, and reading it.

Everything the renderings show (:mod:`.report_terminal`, :mod:`.report_markdown`,
:mod:`.report_html`, :mod:`.report_plot`) is computed from the document that
:func:`build` returns and :func:`load` reads back, so reports can be
regenerated, and several runs (one per dtype, say) merged into one table with
``python -m ext_codegen conformance --merge a.json b.json --out DIR``
(:func:`merge`; with ``--replace-all-samples``, :func:`without_all_samples`
first).  :mod:`.report_files` writes them all.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections import Counter, defaultdict

from .provenance import environment, portable_path

SCHEMA = "ext_codegen.conformance/1"
#: The summary's name for stock rows of ``--compare-stock where-needed``.
WHERE_NEEDED = "stock (where needed)"
RESULTS = ("pass", "fallback", "error", "mismatch", "random")
BACKEND_LABELS = {"ext": "extension (Triton)", "stock": "stock Inductor (C++)",
                  WHERE_NEEDED: "stock Inductor (C++), only where the extension did not match"}
DTYPE_ORDER = ("float32", "float64", "float16", "bfloat16", "int32", "int64", "bool")


# ---------------------------------------------------------------- the document


def build(rows: list[dict], options: dict, wall_seconds: float, command: str) -> dict:
    """The document of one run: ``command`` as :func:`.provenance.user_command` records it."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    run = {"date": now.isoformat().replace("+00:00", "Z"), "command": command, "options": options,
           "wall_seconds": round(wall_seconds, 1)}
    return {"schema": SCHEMA, "environment": environment(), "runs": [run], "summary": summarize(rows), "rows": rows}


def shared_mismatch(row: dict, rows_by_key: dict) -> bool:
    """Whether the other backend got a mismatch on the same op, dtype and samples (a bug of Inductor, then)."""
    other = "stock" if row["backend"] == "ext" else "ext"
    twin = rows_by_key.get((other, row["dtype"], row.get("sample_mode", "1"), row["op"]))
    return row["result"] == "mismatch" and twin is not None and twin["result"] == "mismatch"


def by_key(rows):
    """The rows by (backend, dtype, sample mode, op), the key :func:`shared_mismatch` looks up."""
    return {(r["backend"], r["dtype"], r.get("sample_mode", "1"), r["op"]): r for r in rows}


def summarize(rows: list[dict]) -> list[dict]:
    """Counts per (dtype, sample mode, backend), in a stable order."""
    keyed = by_key(rows)
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        backend = WHERE_NEEDED if r.get("where_needed") else r["backend"]
        groups[(r["dtype"], r.get("sample_mode", "1"), backend)].append(r)

    def order(key):
        dtype, mode, backend = key
        return (DTYPE_ORDER.index(dtype) if dtype in DTYPE_ORDER else 99, mode != "1", mode, backend != "ext")

    summary = []
    for key in sorted(groups, key=order):
        rs = groups[key]
        counts = Counter(r["result"] for r in rs)
        summary.append({
            "dtype": key[0], "sample_mode": key[1], "backend": key[2], "ops": len(rs),
            **{k: counts.get(k, 0) for k in RESULTS},
            "matched": counts.get("pass", 0) + counts.get("fallback", 0),
            "mismatch_shared": sum(1 for r in rs if shared_mismatch(r, keyed)),
            "samples": sum(r.get("compared", 0) for r in rs),
            "seconds": round(sum(r.get("seconds", 0) for r in rs), 1),
        })
        if key[2] == WHERE_NEEDED:
            summary[-1]["stock_matched_at_most"] = stock_matched_at_most(rows, key[0], key[1])
    return summary


def stock_matched_at_most(rows: list[dict], dtype: str, mode: str) -> int:
    """How many of the extension's ops stock Inductor can match at most, when it ran only where needed.

    An op counts as matched by stock where stock ran and matched, and where stock
    did not run because the extension matched every sample (stock cannot do
    better than all); an op where stock ran and failed does not count.
    """
    stock = {r["op"]: r for r in rows
             if r["backend"] == "stock" and r["dtype"] == dtype and r.get("sample_mode", "1") == mode}
    bound = 0
    for r in rows:
        if r["backend"] != "ext" or r["dtype"] != dtype or r.get("sample_mode", "1") != mode or r["result"] == "random":
            continue
        twin = stock.get(r["op"])
        bound += twin["result"] in ("pass", "fallback") if twin else 1
    return bound


def own_mismatches(rows: list[dict]) -> list[dict]:
    """The extension's mismatch rows that stock Inductor does not share on the same samples.

    The tool exits with status 1 when there is one.  A mismatch that stock
    Inductor has too is Inductor's (its lowering against eager), reported in
    every table as *both*, and does not fail the run; without a stock row for
    the op (no ``--compare-stock``) nothing says it is shared, so it counts.
    """
    keyed = by_key(rows)
    return [r for r in rows if r["backend"] == "ext" and r["result"] == "mismatch" and not shared_mismatch(r, keyed)]


def load(path: str) -> dict:
    """A report written by the tool, or the rows a run wrote so far (``NAME.rows.jsonl``, an interrupted run)."""
    if path.endswith(".jsonl"):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        data = build(rows, options={"partial": portable_path(path)}, wall_seconds=0.0,
                     command=f"(rows of an unfinished run: {os.path.basename(path)})")
        data["runs"][0]["date"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(path), datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return data
    with open(path) as f:
        data = json.load(f)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a conformance report (schema {data.get('schema')!r})")
    return data


def without_all_samples(doc: dict) -> dict:
    """``doc`` without its all-samples rows and the runs that wrote them (``--merge --replace-all-samples``).

    Merged in front of later reports, it lets complete all-samples runs stand
    alone instead of mixing with the rows of earlier, partial ones.
    """
    def all_samples(run: dict) -> bool:
        return run.get("options", {}).get("samples") == "all" or "--samples all" in run.get("command", "")

    return {**doc, "rows": [r for r in doc["rows"] if r.get("sample_mode", "1") != "all"],
            "runs": [r for r in doc["runs"] if not all_samples(r)]}


def merge(docs: list[dict]) -> dict:
    """One document from several runs; a later run's row replaces an earlier one for the same op."""
    rows: dict[tuple, dict] = {}
    runs = []
    for d in docs:
        runs += d["runs"]
        for r in d["rows"]:
            rows[(r["backend"], r["dtype"], r.get("sample_mode", "1"), r["op"])] = r
    env = dict(docs[0]["environment"])
    for d in docs[1:]:
        for k in ("torch", "triton"):
            if d["environment"].get(k) != env.get(k):
                env[k] = f"{env[k]} / {d['environment'].get(k)}"
    ordered = sorted(rows.values(), key=lambda r: (r["dtype"], r.get("sample_mode", "1"), r.get("index", 0), r["backend"]))
    return {"schema": SCHEMA, "environment": env, "runs": runs, "summary": summarize(ordered), "rows": ordered}


# ---------------------------------------------------------------- what every rendering reads


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def mode_label(mode: str) -> str:
    """A row's ``sample_mode`` as the tables show it: ``first``, ``first N`` or ``all``."""
    return "all" if mode == "all" else ("first" if mode == "1" else f"first {mode}")


def dates(data: dict) -> str:
    days = sorted({r["date"][:10] for r in data["runs"]})
    return days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"


def headline(data: dict) -> str:
    e = data["environment"]
    return (f"torch {e['torch']}, triton {e['triton']}, Python {e['python']}, numpy {e['numpy']}; "
            f"{e['system']} {e['machine']}, {e['cores']} cores ({e['cpu']}); run {dates(data)} (UTC)")


def mismatch_cell(s: dict) -> str:
    """A summary line's mismatch count, with how many the other backend shares (``4 (4 both)``)."""
    shared = s.get("mismatch_shared", 0)
    return f"{s['mismatch']} ({shared} both)" if shared else str(s["mismatch"])


_SUBJECT = re.compile(r"^((?:aten|prims|extern_kernels|\w+)\.\w+): (.*)$")


def reason_of(row: dict) -> tuple[str, str | None]:
    """A fallback row's reason without the op that caused it, and that op (``aten.polygamma``)."""
    first = (row.get("why") or "unknown").split("; ")[0]
    m = _SUBJECT.match(first)
    if m:
        return m.group(2), m.group(1)
    return re.sub(r" \(graph break: .*\)$", "", first), None


def fallback_reasons(rows: list[dict], backend: str = "ext") -> list[tuple[str, int, list[str]]]:
    """``[(reason, rows, [subjects or ops])]`` for the fallback rows of one backend, most frequent first."""
    count: Counter = Counter()
    what: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["backend"] != backend or r["result"] != "fallback":
            continue
        reason, subject = reason_of(r)
        count[reason] += 1
        item = subject or r["op"]
        if item not in what[reason]:
            what[reason].append(item)
    return [(reason, n, what[reason]) for reason, n in count.most_common()]


def problems(rows, result):
    """The rows of one class (``mismatch``, ``error``), in document order."""
    return [r for r in rows if r["result"] == result]
