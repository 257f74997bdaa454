"""The HTML report: the Markdown report's tables, and every op in every column with its reason on hover."""

from __future__ import annotations

import html

from .report import BACKEND_LABELS, RESULTS, clock, fallback_reasons, headline, mode_label, problems

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
        cells = [s["dtype"], mode_label(s["sample_mode"]), BACKEND_LABELS.get(s["backend"], s["backend"])]
        nums = [s["ops"], *(s[k] for k in RESULTS), s["matched"], clock(s["seconds"])]
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
    parts.append("".join(f"<th>{e(d)}<br>{e(mode_label(m))}<br>{e(b)}</th>" for d, m, b in columns) + "</tr>")
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
        found = problems(data["rows"], result)
        parts.append(f"<h2>{result.capitalize()}s ({len(found)})</h2>")
        if found:
            parts.append("<table><tr><th>op</th><th>dtype</th><th>backend</th><th>why</th></tr>")
            for r in found:
                parts.append(f"<tr><td><code>{e(r['op'])}</code></td><td>{e(r['dtype'])}</td><td>{e(r['backend'])}</td>"
                             f"<td>{e(r.get('why', ''))}</td></tr>")
            parts.append("</table>")
    runs = "".join(f"<li><code>{e(r['command'])}</code>: {e(r['date'])}, {clock(r['wall_seconds'])} wall</li>"
                   for r in data["runs"])
    parts.append(f"<h2>Runs</h2><ul>{runs}</ul></body></html>\n")
    return "\n".join(parts)
