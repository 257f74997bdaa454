"""The summary the tool prints when a run or a merge ends."""

from __future__ import annotations

from .report import (RESULTS, by_key, clock, fallback_reasons, headline, mismatch_cell, mode_label, problems,
                     shared_mismatch)


def terminal_summary(data: dict) -> str:
    """The summary table, the first errors and mismatches, and the most frequent fallback reasons."""
    head = ["dtype", "samples", "backend", "ops", *RESULTS, "matched", "time"]
    body = [[s["dtype"], mode_label(s["sample_mode"]), s["backend"], str(s["ops"]),
             *(mismatch_cell(s) if k == "mismatch" else str(s[k]) for k in RESULTS),
             str(s["matched"]), clock(s["seconds"])] for s in data["summary"]]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["", headline(data), ""]
    for line in [head, *body]:
        lines.append("  ".join(x.ljust(w) if i < 3 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths))))
    for result in ("mismatch", "error"):
        found = problems(data["rows"], result)
        if found:
            lines += ["", f"{result} ({len(found)}):"]
            keyed = by_key(data["rows"])
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
