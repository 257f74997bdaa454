"""The CPU interpreter benchmark: a tiny run end to end, its rendering, its committed result."""

from __future__ import annotations

import json
import os

import pytest

from docs._ext import render_results
from tests.helpers import load_script

COMMITTED = os.path.join(render_results.RESULTS, "cpu_interpreter.json")


bench = load_script("benchmarks/cpu_interpreter.py")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "cpu_interpreter.json"
    assert bench.main(["--scale", "0.01", "--repeat", "1", "--only", "pointwise_chain",
                       "--out", str(out)]) == 0
    with open(out) as f:
        return json.load(f)


def test_tiny_run_records_every_column(tiny):
    assert list(tiny["cases"]) == ["pointwise_chain"]
    for row in tiny["cases"].values():
        for key in ("eager_ms", "eager_1thread_ms", "stock_ms", "ext_ms", "ext_no_replay_ms", "ext_plain_ms",
                    "ext_over_eager", "programs_per_call", "eager_median_ms", "ext_median_ms", "first_call_s",
                    "compile_launches"):
            assert key in row, key
        # one configuration per kernel on cpu: the first call launches nothing to autotune
        assert row["compile_launches"] == 0
        assert row["programs_per_call"] >= 1 and row["launches_per_call"] >= 1
        assert row["ext_over_eager"] == pytest.approx(row["ext_ms"] / min(row["eager_ms"], row["eager_1thread_ms"]))
        if bench._extdev_ready():  # the extdev column, where the device is loaded
            assert row["extdev_over_cpu"] == pytest.approx(row["ext_extdev_ms"] / row["ext_ms"])
    costs = tiny["cost_model"]
    # the fast paths' whole point: a load and a store cost far less than Triton's own
    assert costs["copy_ns_fast"] < costs["copy_ns_triton"]


def test_markdown_has_both_parts_between_markers(tiny):
    text = render_results.cpu_markdown(tiny)
    results = text.split("<!-- results -->")[1].split("<!-- end results -->")[0]
    costs = text.split("<!-- cost-model -->")[1].split("<!-- end cost-model -->")[0]
    assert "| case | shape | eager (ms)" in results
    assert results.count("\n| `") == 1  # one row per case
    assert tiny["torch"] in results and tiny["triton"] in results
    assert "load + store, per element, fast paths" in costs


def test_plot_is_written(tiny, tmp_path):
    pytest.importorskip("matplotlib")  # the docs extra has it
    path = tmp_path / "cpu_interpreter.png"
    render_results.cpu_plot(tiny, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_committed_result_renders():
    if not os.path.exists(COMMITTED):
        pytest.skip("no committed docs/results/benchmarks/cpu_interpreter.json")
    with open(COMMITTED) as f:
        result = json.load(f)
    text = render_results.cpu_markdown(result)
    assert set(result["cases"]) == {name for name, _, _ in bench.SIZES}
    for name in result["cases"]:
        assert render_results.CPU_LABELS[name] in text
