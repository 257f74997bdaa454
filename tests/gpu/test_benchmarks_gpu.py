"""The GPU parity benchmark: its FLOP counts, its rendering, its committed result, a tiny GPU run.

On a machine without a GPU the rendering functions run on the committed
``docs/results/benchmarks/gpu_parity.json``; with a GPU the script's core also runs
at tiny sizes and its fresh result is rendered.
"""

from __future__ import annotations

import copy
import json
import os

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from docs._ext import render_results
from tests.helpers import load_script

COMMITTED = os.path.join(render_results.RESULTS, "gpu_parity.json")


gp = load_script("benchmarks/gpu_parity.py")


@pytest.fixture
def committed():
    if not os.path.exists(COMMITTED):
        pytest.skip("no committed docs/results/benchmarks/gpu_parity.json")
    with open(COMMITTED) as f:
        return json.load(f)


def _table_rows(markdown: str) -> dict[str, list[str]]:
    """Body rows of the Markdown table, keyed by case name, split into cells."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith(("| case ", "|---")):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def _check_rendering(result: dict, tmp_path) -> None:
    """The table holds one row per case with the JSON's numbers; the figure is a real PNG."""
    md = render_results.gpu_markdown(result)
    rows = _table_rows(md)
    assert list(rows) == [c["name"] for c in result["cases"]]
    assert result["device"]["name"] in md and result["versions"]["torch"] in md
    assert f"{result['ceilings']['copy_gbps']:.0f} GB/s" in md
    for case in result["cases"]:
        cells = rows[case["name"]]
        if "ratio" not in case:
            assert "failed" in cells[3]
            continue
        assert cells[3] == f"{case['stock']['ms']:.4f}" and cells[4] == f"{case['ext']['ms']:.4f}"
        assert cells[5].startswith(f"{case['ratio']:.3f} (")
        assert cells[9] == f"{case['compile_ratio']:.2f}"
    pytest.importorskip("matplotlib")
    import matplotlib.image

    path = tmp_path / "gpu_parity.png"
    render_results.gpu_plot(result, str(path))
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(str(path)).shape[:2]
    assert width > 600 and height > 200


def test_block_flops_match_the_flop_counter():
    """The analytic count of matrix-product FLOPs agrees with PyTorch's counter, and the causal
    attention term is half of what the full Q K^T and P V products cost."""
    batch, seq, dim = 2, 32, 128
    args = gp.C.make_block_inputs(batch, seq, dim, "cpu", torch.float32)
    with FlopCounterMode(display=False) as counter:
        gp.C.transformer_block(*args)
    counted = counter.get_flop_counts()["Global"]
    matmuls = sum(v for op, v in counted.items() if "mm" in str(op))
    assert matmuls == gp.block_flops(batch, seq, dim)["matmul"]

    heads = dim // gp.C.HEAD_DIM
    q = torch.randn(batch, heads, seq, gp.C.HEAD_DIM)
    with FlopCounterMode(display=False) as counter:
        (q @ q.transpose(-1, -2)).softmax(-1) @ q
    full = counter.get_total_flops()
    assert gp.block_flops(batch, seq, dim)["attention"] * 2 == full


def test_mlp_flops_match_the_flop_counter():
    args = gp.C.make_mlp_inputs(64, 96, "cpu", torch.float32)
    with FlopCounterMode(display=False) as counter:
        gp.C.mlp(*args)
    assert counter.get_total_flops() == gp.mlp_flops(64, 96)["matmul"]


def test_compile_order_alternates():
    order = gp.compile_order(3)
    assert order == ["stock", "ext", "ext", "stock", "stock", "ext"]
    assert order.count("stock") == order.count("ext") == 3


def test_committed_result_records_what_the_docs_show(committed):
    """Device, versions, date and ceilings are there; every case of the script has a row, and
    every timed case passed the float64 check on both backends."""
    assert committed["device"]["name"] and committed["date"]
    assert committed["versions"]["torch"] and committed["versions"]["triton"]
    assert committed["ceilings"]["copy_gbps"] > 0 and committed["ceilings"]["matmul_tflops"] > 0
    assert [c["name"] for c in committed["cases"]] == [c.name for c in gp.build_cases(gp.TINY, "cuda")]
    for case in committed["cases"]:
        if "ratio" not in case:
            continue
        assert case["correct"], case["name"]
        for side in ("stock", "ext"):
            assert all(max(e.values()) <= case["tolerance"] for e in case[side]["rel_err"])
            assert len(case[side]["rounds"]) >= 2 and case[side]["ms"] > 0
            assert case[side]["compile_s"], case["name"]
        assert case["ratio"] == pytest.approx(case["ext"]["ms"] / case["stock"]["ms"])


def test_render_committed_result(committed, tmp_path):
    _check_rendering(committed, tmp_path)


def test_render_marks_a_failed_case(committed, tmp_path):
    """A case that raised shows as failed in the table and is left out of the figure."""
    result = copy.deepcopy(committed)
    first = result["cases"][0]
    result["cases"][0] = {"name": first["name"], "shape": first["shape"], "bound": first["bound"],
                          "error": "RuntimeError: planted"}
    _check_rendering(result, tmp_path)
    assert "planted" in render_results.gpu_markdown(result)


@pytest.mark.gpu
def test_tiny_run_on_gpu(tmp_path):
    """The script's whole path at tiny sizes: compiles both ways, checks, times, renders."""
    out = tmp_path / "gpu_parity.json"
    status = gp.main(["--tiny", "--rounds", "2", "--no-profile", "--no-warm-up", "--compile-rounds", "1",
                      "--warmup-ms", "5", "--rep-ms", "20", "--out", str(out),
                      "--cases", "pointwise_chain,column_sum,mlp,training_step"])
    result = json.loads(out.read_text())
    assert status == 0, [c.get("error") for c in result["cases"]]
    assert result["device"]["name"] == torch.cuda.get_device_name()
    for case in result["cases"]:
        assert case["correct"], case["name"]
        assert case["stock"]["ms"] > 0 and case["ext"]["ms"] > 0
        assert all(n > 0 for side in ("stock", "ext") for n in case[side]["triton_cache_files"]), (
            "a compile found its Triton cache warm")
    mlp = next(c for c in result["cases"] if c["name"] == "mlp")
    assert mlp["code"]["template_kernels"] >= 1  # the MLP ran Triton mm templates
    _check_rendering(result, tmp_path)


def test_run_leaves_inductor_caches_as_they_were(monkeypatch):
    # The H100 run of the whole suite: the benchmark (run in-process by the
    # test above) left force_disable_caches on, and a later FX-cache test failed.
    from torch._inductor import config

    monkeypatch.setattr(gp, "_run", lambda opts: {"caches_off": config.force_disable_caches})
    before = config.force_disable_caches
    assert gp.run(None) == {"caches_off": True}
    assert config.force_disable_caches == before
