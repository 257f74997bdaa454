"""Rebuild docs/results/conformance/ from the committed report and new sweeps.

    python scripts/merge_conformance.py docs/results/conformance/conformance.json \
        SWEEP/conformance.json [...] --replace-all-samples --out docs/results/conformance

Like ``python -m ext_codegen conformance --merge``, a later report's row
replaces an earlier one for the same op, dtype, sample mode and backend.  Two
things ``--merge`` does not do:

* ``--replace-all-samples`` drops the all-samples rows and runs of the first
  report, so that partial all-samples runs (stopped after some ops, with stock
  Inductor in full) do not mix with complete ones run with
  ``--compare-stock where-needed``;
* stock rows written before the tool named the backend feature a lowering
  needs (``aten.cumsum: ATen runs``) get today's reason, which names it.
"""

from __future__ import annotations

import argparse

from ext_codegen.tools.conformance import report
from ext_codegen.tools.conformance.fallback import explain_extern
from ext_codegen.tools.conformance.report_files import write_all
from ext_codegen.tools.conformance.report_terminal import terminal_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", help="JSON reports, oldest first")
    parser.add_argument("--replace-all-samples", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    docs = [report.load(p) for p in args.reports]
    first = docs[0]
    if args.replace_all_samples:
        first["rows"] = [r for r in first["rows"] if r.get("sample_mode", "1") != "all"]
        first["runs"] = [r for r in first["runs"] if "--samples all" not in r["command"]]
    for row in first["rows"]:
        if row["backend"] == "stock" and row["result"] == "fallback":
            _, subject = report.reason_of(row)
            if subject and "only where the backend has" in (why := explain_extern(subject, "stock")):
                row["why"] = "; ".join([why, *row["why"].split("; ")[1:]])
    data = report.merge(docs)
    print(terminal_summary(data))
    own = report.own_mismatches(data["rows"])
    print("mismatches of the extension alone:", [(r["op"], r["dtype"]) for r in own] or "none")
    for path in write_all(data, args.out):
        print("wrote", path)


if __name__ == "__main__":
    main()
