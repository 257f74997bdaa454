"""The conformance tool's reports: JSON for machines, Markdown and HTML tables, a plot, a terminal summary.

Everything here works on the JSON document that :func:`build` returns (and
:func:`load` reads back), so reports can be regenerated, and several runs
(one per dtype, say) merged into one table with
``python -m ext_codegen conformance --merge a.json b.json --out DIR``.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import platform
import re
from collections import Counter, defaultdict

SCHEMA = "ext_codegen.conformance/1"
#: The summary's name for stock rows of ``--compare-stock where-needed``.
WHERE_NEEDED = "stock (where needed)"
RESULTS = ("pass", "fallback", "error", "mismatch", "random")
BACKEND_LABELS = {"ext": "extension (Triton)", "stock": "stock Inductor (C++)",
                  WHERE_NEEDED: "stock Inductor (C++), only where the extension did not match"}
DTYPE_ORDER = ("float32", "float64", "float16", "bfloat16", "int32", "int64", "bool")
COLORS = {"pass": "#2e9e4f", "fallback": "#8fc1e3", "error": "#f0a030", "mismatch": "#d62728", "random": "#bbbbbb"}


# ---------------------------------------------------------------- the document


def cpu_model() -> str:
    """The CPU's model name from Linux's ``/proc/cpuinfo``, else what :mod:`platform` reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """Versions and machine the run happened on."""
    import numpy
    import torch
    import triton

    from . import __version__

    return {
        "torch": torch.__version__,
        "triton": triton.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "ext_codegen": __version__,
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
    }


def build(rows: list[dict], options: dict, wall_seconds: float, command: str) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    run = {"date": now.isoformat().replace("+00:00", "Z"), "command": command, "options": options,
           "wall_seconds": round(wall_seconds, 1)}
    return {"schema": SCHEMA, "environment": environment(), "runs": [run], "summary": summarize(rows), "rows": rows}


def shared_mismatch(row: dict, rows_by_key: dict) -> bool:
    """Whether the other backend got a mismatch on the same op, dtype and samples (a bug of Inductor, then)."""
    other = "stock" if row["backend"] == "ext" else "ext"
    twin = rows_by_key.get((other, row["dtype"], row.get("sample_mode", "1"), row["op"]))
    return row["result"] == "mismatch" and twin is not None and twin["result"] == "mismatch"


def _by_key(rows):
    return {(r["backend"], r["dtype"], r.get("sample_mode", "1"), r["op"]): r for r in rows}


def summarize(rows: list[dict]) -> list[dict]:
    """Counts per (dtype, sample mode, backend), in a stable order."""
    keyed = _by_key(rows)
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


def load(path: str) -> dict:
    """A report written by the tool, or the rows a run wrote so far (``NAME.rows.jsonl``, an interrupted run)."""
    if path.endswith(".jsonl"):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        data = build(rows, options={"partial": path}, wall_seconds=0.0, command=f"(rows of an unfinished run: {os.path.basename(path)})")
        data["runs"][0]["date"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(path), datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        return data
    with open(path) as f:
        data = json.load(f)
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a conformance report (schema {data.get('schema')!r})")
    return data


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


def write_all(data: dict, out_dir: str, name: str = "conformance") -> list[str]:
    """Write ``name``.json/.md/.html/.png under ``out_dir``; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    path = os.path.join(out_dir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    paths.append(path)
    for ext, render in (("md", markdown), ("html", html_page)):
        path = os.path.join(out_dir, f"{name}.{ext}")
        with open(path, "w") as f:
            f.write(render(data))
        paths.append(path)
    path = os.path.join(out_dir, f"{name}.png")
    if plot(data, path):
        paths.append(path)
    return paths


# ---------------------------------------------------------------- shared pieces


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _mode(mode: str) -> str:
    return "all" if mode == "all" else ("first" if mode == "1" else f"first {mode}")


def _dates(data: dict) -> str:
    days = sorted({r["date"][:10] for r in data["runs"]})
    return days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"


def headline(data: dict) -> str:
    e = data["environment"]
    return (f"torch {e['torch']}, triton {e['triton']}, Python {e['python']}, numpy {e['numpy']}; "
            f"{e['system']} {e['machine']}, {e['cores']} cores ({e['cpu']}); run {_dates(data)} (UTC)")


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


def _problems(rows, result):
    return [r for r in rows if r["result"] == result]


# ---------------------------------------------------------------- terminal


def terminal_summary(data: dict) -> str:
    head = ["dtype", "samples", "backend", "ops", *RESULTS, "matched", "time"]
    body = [[s["dtype"], _mode(s["sample_mode"]), s["backend"], str(s["ops"]),
             *(_mismatch_cell(s) if k == "mismatch" else str(s[k]) for k in RESULTS),
             str(s["matched"]), _clock(s["seconds"])] for s in data["summary"]]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["", headline(data), ""]
    for line in [head, *body]:
        lines.append("  ".join(x.ljust(w) if i < 3 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths))))
    for result in ("mismatch", "error"):
        found = _problems(data["rows"], result)
        if found:
            lines += ["", f"{result} ({len(found)}):"]
            keyed = _by_key(data["rows"])
            for r in found[:25]:
                both = " [the other backend too]" if shared_mismatch(r, keyed) else ""
                lines.append(f"  {r['backend']:5} {r['dtype']:8} {r['op']}: {r.get('why', '')[:160]}{both}")
            if len(found) > 25:
                lines.append(f"  ... {len(found) - 25} more in the JSON report")
    reasons = fallback_reasons(data["rows"])
    if reasons:
        lines += ["", "fallback reasons (extension backend):"]
        for reason, n, items in reasons[:12]:
            lines.append(f"  {n:4}  {reason[:90]}: {', '.join(items[:6])}{' ...' if len(items) > 6 else ''}")
    return "\n".join(lines)


# ---------------------------------------------------------------- Markdown


def _md(text) -> str:
    """Table-cell text: pipes escaped, no line breaks."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text) -> str:
    return f"`{str(text).replace('`', '')}`".replace("|", "\\|")


def _mismatch_cell(s: dict) -> str:
    shared = s.get("mismatch_shared", 0)
    return f"{s['mismatch']} ({shared} both)" if shared else str(s["mismatch"])


def markdown(data: dict) -> str:
    """The summary table, the fallback reasons, and every error and mismatch, as Markdown without headings."""
    out = [f"OpInfo conformance measured with `python -m ext_codegen conformance`: {headline(data)}.", ""]
    out += ["| dtype | samples | backend | ops | pass | fallback | matched | error | mismatch | random | time |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in data["summary"]:
        out.append(f"| {s['dtype']} | {_mode(s['sample_mode'])} | {BACKEND_LABELS.get(s['backend'], s['backend'])} "
                   f"| {s['ops']} | {s['pass']} | {s['fallback']} | **{s['matched']}** | {s['error']} "
                   f"| {_mismatch_cell(s)} | {s['random']} | {_clock(s['seconds'])} |")
    runs = "; ".join(f"`{r['command']}` ({r['date'][:10]}, {_clock(r['wall_seconds'])} wall)" for r in data["runs"])
    out += ["", f"Runs: {_md(runs)}."]
    for st in data["summary"]:
        if "stock_matched_at_most" in st:
            ext = next((x for x in data["summary"] if x["backend"] == "ext" and x["dtype"] == st["dtype"]
                        and x["sample_mode"] == st["sample_mode"]), None)
            if ext:
                out += ["", f"{st['dtype']}, {_mode(st['sample_mode'])} samples: stock Inductor ran only on the "
                        f"{st['ops']} ops the extension did not match (and on any it ran in a full comparison), so "
                        f"it matches at most **{st['stock_matched_at_most']}** of the {ext['ops']} ops; "
                        f"the extension matched **{ext['matched']}**."]
    out += ["", "*time*: the sum of the per-op times (compile and run) for that backend and dtype."
            + (" *both*: mismatches that the other backend has too, on the same samples."
               if any(s.get("mismatch_shared") for s in data["summary"]) else ""), ""]
    reasons = fallback_reasons(data["rows"])
    if reasons:
        out += ["**Why the extension backend fell back** (rows of all dtypes above):", "",
                "| reason | rows | ops or calls |", "|---|---:|---|"]
        for reason, n, items in reasons:
            shown = ", ".join(_code(x) for x in items[:12]) + (f" and {len(items) - 12} more" if len(items) > 12 else "")
            out.append(f"| {_md(reason)} | {n} | {shown} |")
        out.append("")
    wide = [r for r in data["rows"] if r.get("tensor_wide_samples")]
    if wide:
        items = ", ".join(f"{_code(r['op'])} {r['dtype']} ({r['backend']}, sample "
                          f"{', '.join(map(str, r['tensor_wide_samples']))})" for r in wide)
        out += [f"**Matched by the tensor-wide float64 rule** (an element as far from float64 as eager's worst "
                f"element, up to a factor 2; see *How it compares*): {items}.", ""]
    for result, title in (("mismatch", "Mismatches"), ("error", "Errors")):
        found = _problems(data["rows"], result)
        if not found:
            out += [f"**{title}**: none.", ""]
            continue
        keyed = _by_key(data["rows"])
        out += [f"**{title}** ({len(found)}):", "", "| op | dtype | samples | backend | why |", "|---|---|---|---|---|"]
        for r in found:
            why = _md(r.get("why", "")) + (" (the other backend too)" if shared_mismatch(r, keyed) else "")
            out.append(f"| {_code(r['op'])} | {r['dtype']} | {_mode(r.get('sample_mode', '1'))} | {r['backend']} | {why} |")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- HTML


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
td.num { text-align: right; }
td.pass { background: #c9ecd3; } td.fallback { background: #d7e9f7; } td.error { background: #fbe0b3; }
td.mismatch { background: #f4b6b6; font-weight: bold; } td.random { background: #e6e6e6; }
code { font-size: 12px; }
"""


def html_page(data: dict) -> str:
    e = html.escape
    parts = ["<!doctype html>", "<html><head><meta charset='utf-8'><title>ext_codegen conformance</title>",
             f"<style>{_CSS}</style></head><body>", "<h1>OpInfo conformance of ext_codegen</h1>",
             f"<p>{e(headline(data))}</p>", "<table><tr>"]
    cols = ["dtype", "samples", "backend", "ops", *RESULTS, "matched", "time"]
    parts.append("".join(f"<th>{c}</th>" for c in cols) + "</tr>")
    for s in data["summary"]:
        cells = [s["dtype"], _mode(s["sample_mode"]), BACKEND_LABELS.get(s["backend"], s["backend"])]
        nums = [s["ops"], *(s[k] for k in RESULTS), s["matched"], _clock(s["seconds"])]
        parts.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells)
                     + "".join(f"<td class='num'>{e(str(c))}</td>" for c in nums) + "</tr>")
    parts.append("</table>")
    reasons = fallback_reasons(data["rows"])
    if reasons:
        parts.append("<h2>Why the extension backend fell back</h2><table><tr><th>reason</th><th>rows</th><th>ops or calls</th></tr>")
        for reason, n, items in reasons:
            parts.append(f"<tr><td>{e(reason)}</td><td class='num'>{n}</td><td>"
                         + ", ".join(f"<code>{e(x)}</code>" for x in items) + "</td></tr>")
        parts.append("</table>")
    # Every op: one column per (dtype, samples, backend); hover a cell for the reason.
    columns = [(s["dtype"], s["sample_mode"], s["backend"]) for s in data["summary"]]
    cell: dict[tuple, dict] = {}
    ops: dict[str, int] = {}
    for r in data["rows"]:
        cell[(r["op"], r["dtype"], r.get("sample_mode", "1"), r["backend"])] = r
        ops.setdefault(r["op"], r.get("index", 0))
    parts.append("<h2>Every op</h2><p>Hover over a cell for the reason or the error.</p><table><tr><th>op</th>")
    parts.append("".join(f"<th>{e(d)}<br>{e(_mode(m))}<br>{e(b)}</th>" for d, m, b in columns) + "</tr>")
    for op in sorted(ops, key=lambda o: ops[o]):
        parts.append(f"<tr><td><code>{e(op)}</code></td>")
        for d, m, b in columns:
            r = cell.get((op, d, m, b))
            if r is None:
                parts.append("<td></td>")
            else:
                tip = r.get("why") or (f"{r.get('launches', r.get('kernels', 0))} kernel launches" if r["result"] == "pass" else "")
                parts.append(f"<td class='{r['result']}' title='{e(tip, quote=True)}'>{r['result']}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    for result in ("mismatch", "error"):
        found = _problems(data["rows"], result)
        parts.append(f"<h2>{result.capitalize()}s ({len(found)})</h2>")
        if found:
            parts.append("<table><tr><th>op</th><th>dtype</th><th>backend</th><th>why</th></tr>")
            for r in found:
                parts.append(f"<tr><td><code>{e(r['op'])}</code></td><td>{e(r['dtype'])}</td><td>{e(r['backend'])}</td>"
                             f"<td>{e(r.get('why', ''))}</td></tr>")
            parts.append("</table>")
    runs = "".join(f"<li><code>{e(r['command'])}</code>: {e(r['date'])}, {_clock(r['wall_seconds'])} wall</li>"
                   for r in data["runs"])
    parts.append(f"<h2>Runs</h2><ul>{runs}</ul></body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------- plot


def plot(data: dict, path: str) -> bool:
    """A stacked bar per (dtype, samples, backend); ``False`` when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = data["summary"]
    labels = [f"{s['dtype']} ({_mode(s['sample_mode'])}) {s['backend']}" for s in summary]
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.38 * len(summary)))
    y = list(range(len(summary)))[::-1]
    left = [0] * len(summary)
    for result in RESULTS:
        widths = [s[result] for s in summary]
        ax.barh(y, widths, left=left, color=COLORS[result], label=result, height=0.7)
        left = [a + b for a, b in zip(left, widths)]
    for yy, s, total in zip(y, summary, left):
        ax.text(total + max(left) * 0.01, yy, f"{s['matched']}/{s['ops']} matched"
                + (f", {s['mismatch']} mismatch" if s["mismatch"] else ""), va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(0, max(left) * 1.25 if left else 1)
    ax.set_xlabel("OpInfo entries")
    e = data["environment"]
    ax.set_title(f"OpInfo conformance: torch {e['torch']}, triton {e['triton']}, {_dates(data)}", fontsize=9)
    fig.legend(*ax.get_legend_handles_labels(), ncol=5, fontsize=8, loc="lower center", frameon=False)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
