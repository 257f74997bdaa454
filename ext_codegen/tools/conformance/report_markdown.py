"""The Markdown report: the page ``docs/testing.md`` includes as its results."""

from __future__ import annotations

from .report import (BACKEND_LABELS, by_key, clock, fallback_reasons, headline, mismatch_cell, mode_label, problems,
                     shared_mismatch)


def _md(text) -> str:
    """Table-cell text: pipes escaped, no line breaks."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text) -> str:
    return f"`{str(text).replace('`', '')}`".replace("|", "\\|")


def markdown(data: dict) -> str:
    """The summary table, the fallback reasons, and every error and mismatch, as Markdown without headings."""
    out = [f"OpInfo conformance measured with `python -m ext_codegen conformance`: {headline(data)}.", ""]
    out += ["| dtype | samples | backend | ops | pass | fallback | matched | error | mismatch | random | time |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in data["summary"]:
        out.append(f"| {s['dtype']} | {mode_label(s['sample_mode'])} | {BACKEND_LABELS.get(s['backend'], s['backend'])} "
                   f"| {s['ops']} | {s['pass']} | {s['fallback']} | **{s['matched']}** | {s['error']} "
                   f"| {mismatch_cell(s)} | {s['random']} | {clock(s['seconds'])} |")
    runs = "; ".join(f"`{r['command']}` ({r['date'][:10]}, {clock(r['wall_seconds'])} wall)" for r in data["runs"])
    out += ["", f"Runs: {_md(runs)}."]
    for st in data["summary"]:
        if "stock_matched_at_most" in st:
            ext = next((x for x in data["summary"] if x["backend"] == "ext" and x["dtype"] == st["dtype"]
                        and x["sample_mode"] == st["sample_mode"]), None)
            if ext:
                out += ["", f"{st['dtype']}, {mode_label(st['sample_mode'])} samples: stock Inductor ran only on the "
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
        found = problems(data["rows"], result)
        if not found:
            out += [f"**{title}**: none.", ""]
            continue
        keyed = by_key(data["rows"])
        out += [f"**{title}** ({len(found)}):", "", "| op | dtype | samples | backend | why |", "|---|---|---|---|---|"]
        for r in found:
            why = _md(r.get("why", "")) + (" (the other backend too)" if shared_mismatch(r, keyed) else "")
            out.append(f"| {_code(r['op'])} | {r['dtype']} | {mode_label(r.get('sample_mode', '1'))} | {r['backend']} | {why} |")
        out.append("")
    return "\n".join(out)
