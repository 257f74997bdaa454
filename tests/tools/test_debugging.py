"""The debugging tools pinpoint planted bugs (tests/tools/debug_bugs.py), on cpu and on extdev.

One planted bug per tool: an off-by-one index in ``neg``'s lowering for the
bounds check, the breakpoint and the watch; ``sin`` lowered as ``cos`` for
the search of the wrong kernel.  Each test asserts what the tool names —
kernel, line, argument, index, buffer — against the kernel Inductor wrote.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from ext_codegen.tools import debug
from ext_codegen.triton_backend import launch
from tests.helpers import backend_registered, skip_on_gpu_host
from tests.tools.debug_bugs import off_by_one_neg, sin_as_cos

DEVICES = ["cpu", pytest.param("extdev", marks=skip_on_gpu_host)]


@pytest.fixture(params=DEVICES)
def device(request):
    with backend_registered(request.param):
        yield request.param


def neg(x):
    return -x


def _line_of(file_name, needle):
    with open(file_name) as f:
        return next(i for i, line in enumerate(f, 1) if needle in line)


def test_bounds_check_names_kernel_line_argument_and_index(device, gen):
    x = torch.randn(100, generator=gen).to(device)
    with off_by_one_neg(), pytest.raises(debug.OutOfBounds) as caught, debug.check_bounds(device):
        torch.compile(neg)(x)
    err = caught.value
    assert err.kernel.startswith("triton_poi_fused_neg") and err.op == "load"
    assert err.argument == "in_ptr0" and err.index == 100 and err.size == 100 and err.lane == (99,)
    assert err.line == _line_of(err.file_name, "tl.load(in_ptr0 + (1 + x0)")
    assert "in_ptr0: element 100 of a tensor of 100 elements" in str(err)


def test_bounds_check_passes_correct_kernels_and_keeps_results(device, gen):
    """Masked-off lanes are exempt (100 of 128 lanes live), stores and reductions pass, results unchanged."""
    x = torch.randn(100, 37, generator=gen, dtype=torch.float64)
    fn = lambda x: (torch.softmax(x, -1) * 2, x.cumsum(0), -x)  # noqa: E731
    before = launch.launch_count
    with debug.check_bounds(device):
        out = torch.compile(fn)(x.to(device))
    assert launch.launch_count > before
    for got, want in zip(out, fn(x)):
        torch.testing.assert_close(got.cpu(), want)
    assert not launch.instruments  # nothing left installed


def test_bounds_check_from_the_environment(device, gen, monkeypatch):
    x = torch.randn(100, generator=gen).to(device)
    monkeypatch.setenv("EXT_CODEGEN_CHECK_BOUNDS", "1")
    with off_by_one_neg(), pytest.raises(debug.OutOfBounds, match="in_ptr0: element 100"):
        torch.compile(neg)(x)
    monkeypatch.setenv("EXT_CODEGEN_CHECK_BOUNDS", "0")
    with off_by_one_neg():
        torch.compile(neg)(x)  # off: the read past the end goes unchecked, as on a GPU


def test_tools_refuse_a_device_whose_kernels_are_not_interpreted():
    for tool in (lambda: debug.check_bounds("cuda"), lambda: debug.break_in("k", device="cuda:0"),
                 lambda: debug.watch("k", "tmp0", device="cuda")):
        with pytest.raises(ValueError, match="'cuda' do not run in Triton's interpreter"):
            with tool():
                pass


def test_break_stops_at_the_kernels_first_line_and_steps(device, gen):
    x = torch.randn(100, generator=gen).to(device)
    out = io.StringIO()
    commands = ["p xindex[:3]", "n", "n", "n", "n", "n", "n", "p x0[-1]", "p tmp0[98]", "p xmask.sum()"]
    with off_by_one_neg(), debug.break_in("triton_poi_*neg*", commands=commands, stdout=out) as stop:
        torch.compile(neg)(x)
    text = out.getvalue()
    assert stop.kernel.startswith("triton_poi_fused_neg")
    first = text.splitlines()[0]
    assert first.startswith("> /") and f"{stop.kernel}()" in first  # the generated file, its def's first line
    assert "NameError: name 'xindex' is not defined" in text  # stopped before the first line ran
    assert "-> tmp0 = tl.load(in_ptr0 + (1 + x0), xmask)" in text  # stepped to the planted line
    assert "(Pdb) p x0[-1]\nnp.int32(127)" in text  # blocks print as arrays
    assert f"(Pdb) p tmp0[98]\n{np.float32(x[99].item())!r}" in text  # lane 98 loaded x[99]: the bug
    assert "(Pdb) p xmask.sum()\nnp.int64(100)" in text


def test_break_on_a_name_that_matches_nothing_lists_the_kernels(ext_cpu, gen):
    with pytest.raises(debug.NoSuchKernel) as caught, debug.break_in("triton_red_*", commands=[]):
        torch.compile(lambda x: x.sin())(torch.randn(8, generator=gen))
    assert "'triton_red_*' matched no kernel" in str(caught.value)
    assert "triton_poi_fused_sin_0" in str(caught.value)


def test_break_from_the_environment_reads_commands_from_stdin(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import torch, ext_codegen
        ext_codegen.register("cpu")
        torch.compile(lambda x: x.sin() * 2)(torch.arange(6.0))
    """))
    env = dict(os.environ, EXT_CODEGEN_BREAK="triton_poi_*", TORCHINDUCTOR_FX_GRAPH_CACHE="0")
    run = subprocess.run([sys.executable, str(script)], input="n\nn\nn\np xindex\nc\n", env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "triton_poi_fused_mul_sin_0()" in run.stdout
    assert "array([0, 1, 2, 3, 4, 5, 6, 7]" in run.stdout  # xindex of the one program


def test_unmatched_environment_pattern_is_reported(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import torch, ext_codegen\next_codegen.register('cpu')\n"
                      "torch.compile(lambda x: x.cos())(torch.ones(4))\n")
    env = dict(os.environ, EXT_CODEGEN_BREAK="no_such_kernel", TORCHINDUCTOR_FX_GRAPH_CACHE="0")
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0
    assert "EXT_CODEGEN_BREAK: the pattern 'no_such_kernel' matched no kernel" in run.stderr
    assert "triton_poi_fused_cos_0" in run.stderr


def test_watch_records_the_planted_shift(device, gen):
    x = torch.randn(100, generator=gen).to(device)
    with off_by_one_neg(), debug.watch("triton_poi_fused_neg*", "x0", "tmp0", "xmask") as seen:
        torch.compile(neg)(x)
    names = [(r.name, r.dtype, r.shape) for r in seen.records]
    assert names == [("x0", "int32", (128,)), ("tmp0", "fp32", (128,)), ("xmask", "int1", (128,))]
    tmp0, mask = seen.values("tmp0")[0], seen.values("xmask")[0]
    assert mask.sum() == 100
    # lane i loaded x[i + 1]: the watch shows the shift without a debugger
    torch.testing.assert_close(torch.from_numpy(tmp0[:99]), x.cpu()[1:])
    assert seen.records[0].kernel.startswith("triton_poi_fused_neg") and seen.records[0].program == (0, 0, 0)


def test_watch_per_launch(ext_cpu, gen):
    f = torch.compile(lambda x: x + 1)
    with debug.watch("triton_*", "tmp2") as seen:
        f(torch.zeros(4))
        f(torch.ones(4))
    assert [r.launch for r in seen.records] == [0, 1]
    assert [v[:4].tolist() for v in seen.values("tmp2")] == [[1.0] * 4, [2.0] * 4]


def test_find_wrong_kernel_names_the_planted_kernel(device, gen, tmp_path):
    def f(x):
        a = x.sum(0)
        return (x - a).sin() * 2

    x = torch.randn(8, 16, generator=gen).to(device)
    with sin_as_cos():
        found = debug.find_wrong_kernel(f, x, reproducer=tmp_path)
    assert found is not None
    # Inductor writes the sum and the rest as two kernels, or fuses them (a mix-order reduction on
    # some shapes): either way the kernel named is the one with the sin, and the buffer it got wrong is
    # the product's, not the (correct) sum's
    assert "sin" in found.kernel and found.node == "mul" and found.error > 0.1
    assert found.launch == (0 if "sum" in found.kernel else 1) and found.argument.startswith("out_ptr")
    assert "sin = aten.sin.default" in found.origins
    assert found.source.endswith("in f: return (x - a).sin() * 2")
    run = subprocess.run([sys.executable, found.reproducer], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"{found.kernel}: {found.argument} differs from float64 eager by up to {found.error:.3g}" in run.stdout


def test_find_wrong_kernel_finds_nothing_in_a_correct_model(ext_cpu, gen):
    x = torch.randn(8, 16, generator=gen)
    assert debug.find_wrong_kernel(lambda x: (x - x.sum(0)).sin() * 2, x) is None
