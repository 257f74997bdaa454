"""The native-path benchmark: a tiny run end to end, its rendering, its committed result."""

from __future__ import annotations

import json
import os

import pytest

from docs._ext import render_results
from tests.helpers import load_script

COMMITTED = os.path.join(render_results.RESULTS, "cpu_native.json")

bench = load_script("benchmarks/cpu_native.py")

#: What every timed case records.
ROW_KEYS = ("shape", "eager_ms", "stock_ms", "native_ms", "interpreter_ms", "native_over_eager", "native_over_stock",
            "stock_first_call_s", "native_first_call_s", "interpreter_first_call_s", "kernels", "kernels_native",
            "compile_ms", "native_launches_per_call", "native_kernel_launches_per_call", "native_matches_eager",
            "stock_matches_eager", "interpreter_matches_eager")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "cpu_native.json"
    assert bench.main(["--tiny", "--out", str(out)]) == 0
    with open(out) as f:
        return json.load(f)


def _check_shape(result):
    for key in ("date", "cores", "torch", "triton", "gcc", "targets", "cases", "memory", "summary"):
        assert key in result, key
    for row in result["cases"].values():
        for key in ROW_KEYS:
            assert key in row, key
        for kernel in row["kernels"]:
            assert {"kernel", "lower_ms", "build_ms", "fallback"} <= set(kernel)
    assert set(result["summary"]["met"]) <= set(result["targets"])


def test_tiny_run_records_every_column_and_native_matches_eager(tiny):
    _check_shape(tiny)
    assert [name for name, _, _ in bench.TINY_CASES] == list(tiny["cases"])
    for row in tiny["cases"].values():
        # the kernels were compiled natively and ran natively, with eager's result
        assert row["native_matches_eager"] and row["interpreter_matches_eager"] and row["stock_matches_eager"]
        assert row["kernels_native"] == len(row["kernels"]) >= 1
        assert row["native_kernel_launches_per_call"] == row["native_launches_per_call"] >= 1
        assert row["native_over_eager"] == pytest.approx(row["native_ms"] / row["eager_reference_ms"])
        # cold caches: every native kernel was built by gcc in this run and timed
        assert all(k["build_ms"] > 0 and "load_ms" in k for k in row["kernels"])
    backends = tiny["memory"]["backends"]
    assert set(backends) == {"eager", "stock", "interpreter", "native"}
    for row in backends.values():
        assert row["matches_eager"] and row["peak_mb"] >= row["baseline_mb"] > 0
    assert backends["native"]["native_launches"] >= 1 and backends["interpreter"]["native_launches"] == 0
    assert tiny["summary"]["native_share"] == 1.0


def test_markdown_has_the_tables_between_markers(tiny):
    text = render_results.native_markdown(tiny)
    results = text.split("<!-- results -->")[1].split("<!-- end results -->")[0]
    assert "| case | shape | eager (ms) | stock C++ Inductor (ms) | interpreter (ms) | native (ms)" in results
    assert results.count("\n| `") == len(tiny["cases"])
    assert "| target (issue 21, point 7) |" in results and "| backend | peak (MB) |" in results
    assert tiny["torch"] in results and tiny["gcc"] in results


def test_committed_result_renders():
    if not os.path.exists(COMMITTED):
        pytest.skip("no committed docs/results/benchmarks/cpu_native.json")
    with open(COMMITTED) as f:
        result = json.load(f)
    _check_shape(result)
    assert not result["tiny"]
    sizes = load_script("benchmarks/cpu_interpreter.py").SIZES
    assert set(result["cases"]) == {name for name, _, _ in sizes}
    assert all(row["native_matches_eager"] for row in result["cases"].values())
    text = render_results.native_markdown(result)
    for name in result["cases"]:
        assert render_results.CPU_LABELS[name] in text
