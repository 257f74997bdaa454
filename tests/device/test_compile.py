"""torch.compile on the extdev device: the four extension points, the extdev Triton backend, the interpreter.

Every case runs the compiled function on extdev copies of fresh random cpu
inputs and compares with eager on cpu, in float64 where the case allows;
each checks that the package's Triton kernels really ran (launches counted).
"""

from __future__ import annotations

import functools
import os

import pytest
import torch

import ext_codegen
from ext_codegen.triton_backend import launch
from tests.helpers import SEED, backend_registered, compile_and_check, run_python, skip_on_gpu_host

pytestmark = skip_on_gpu_host


@pytest.fixture(scope="module", autouse=True)
def extdev():
    """extdev registered (by the autoload, or here when autoloading is off)."""
    with backend_registered("extdev"):
        yield


#: The cases here compile for extdev copies of float64 cpu inputs and match eager to 1e-7 unless they say otherwise.
check = functools.partial(compile_and_check, device="extdev", atol=1e-7, rtol=1e-7)


def test_pointwise_chain(gen):
    x, y = torch.randn(257, 33, generator=gen, dtype=torch.float64), torch.randn(33, generator=gen, dtype=torch.float64)
    check(lambda x, y: (torch.sin(x) * y + torch.tanh(x - y)).relu().exp2(), x, y)


def test_softmax_and_layer_norm(gen):
    x = torch.randn(64, 300, generator=gen, dtype=torch.float64)
    w, b = torch.randn(300, generator=gen, dtype=torch.float64), torch.randn(300, generator=gen, dtype=torch.float64)
    check(lambda x: torch.softmax(x, -1), x)
    check(lambda x, w, b: torch.nn.functional.layer_norm(x, (300,), w, b), x, w, b)


def test_cumsum_and_argmax(gen):
    x = torch.randn(16, 200, generator=gen, dtype=torch.float64)
    _, code = check(lambda x: x.cumsum(1), x)
    assert "tl.associative_scan" in code
    check(lambda x: (x.argmax(1), x.amin(0)), x)


def test_indexing_and_scatter(gen):
    x = torch.randn(50, 8, generator=gen, dtype=torch.float64)
    idx = torch.randint(0, 50, (120,), generator=gen)
    src = torch.randn(120, 8, generator=gen, dtype=torch.float64)
    check(lambda x, i: x[i] * 2, x, idx)
    check(lambda x, i, s: x.index_add(0, i, s), x, idx, src)


def test_bf16(gen):
    x = torch.randn(4096, generator=gen).to(torch.bfloat16)
    g = lambda t: (t * 1.5 + 0.25).sigmoid()  # noqa: E731
    out, _ = check(g, x, atol=2e-2, rtol=2e-2)
    truth = g(x.double())
    assert (out.cpu().double() - truth).abs().max() <= (g(x).double() - truth).abs().max()


def test_training_step_with_optimizer(gen):
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 4)).double()
    twin = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 4)).double()
    twin.load_state_dict(model.state_dict())
    model.to("extdev")
    opt, opt_ref = torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(twin.parameters(), lr=0.1)
    x, y = torch.randn(8, 16, generator=gen, dtype=torch.float64), torch.randn(8, 4, generator=gen, dtype=torch.float64)

    def step(m, opt, x, y):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        return loss

    torch._dynamo.reset()
    compiled = torch.compile(step)
    before = launch.launch_count
    for _ in range(3):
        loss = compiled(model, opt, x.to("extdev"), y.to("extdev"))
        ref = step(twin, opt_ref, x, y)
        torch.testing.assert_close(loss.cpu(), ref)
    assert launch.launch_count > before
    for p, q in zip(model.parameters(), twin.parameters()):
        assert p.device.type == "extdev"
        torch.testing.assert_close(p.detach().cpu(), q.detach())


def test_dynamic_shapes(gen):
    torch._dynamo.reset()
    from torch._dynamo.utils import counters

    counters.clear()
    f = torch.compile(lambda x: torch.softmax(x * 2, -1))
    for n in (8, 9, 17, 40):
        x = torch.randn(n, 30, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(f(x.to("extdev")).cpu(), torch.softmax(x * 2, -1))
    assert counters["stats"]["unique_graphs"] <= 2  # one static graph, then one symbolic


def test_second_device_is_guarded(gen):
    x = torch.randn(40, 40, generator=gen, dtype=torch.float64)
    out, code = check(lambda x: x.sin() + x.t(), x, device="extdev:1")
    assert out.device == torch.device("extdev", 1)
    assert "with torch.extdev.device(1):" in code
    assert torch.extdev.current_device() == 0  # the guard restored it


@pytest.mark.parametrize("subprocess_autotune", [False, True], ids=["in-process", "autotune-child"])
def test_max_autotune_triton_template(gen, subprocess_autotune):
    """GEMM templates on extdev; the autotune child knows the device through the autoload."""
    if subprocess_autotune and os.environ.get("TORCH_DEVICE_BACKEND_AUTOLOAD") == "0":
        pytest.skip("the autotune child knows extdev only through the autoload, which is off")
    a, b = torch.randn(64, 32, generator=gen), torch.randn(32, 48, generator=gen)
    from torch._inductor import config

    with config.patch(max_autotune=True, max_autotune_gemm_backends="TRITON", autotune_in_subproc=subprocess_autotune):
        _, code = check(lambda a, b: (a @ b).relu(), a, b, atol=1e-4, rtol=1e-4)
    assert "tl.dot(" in code


def test_cpu_and_extdev_in_one_process(gen):
    x = torch.randn(100, 10, generator=gen, dtype=torch.float64)
    with ext_codegen.registered("cpu"):
        check(lambda x: x.cos().sum(1), x, device="cpu")
        check(lambda x: x.cos().sum(1), x, device="extdev")


def test_fx_graph_cache_keeps_extdev_apart_from_cpu(tmp_path):
    """A graph compiled for cpu (either backend) is never served for extdev, and extdev hits its own entry."""
    script = r"""
import torch, ext_codegen
from torch._dynamo.utils import counters
if not ext_codegen.is_registered("extdev"):
    ext_codegen.register("extdev")
f = lambda x: torch.softmax(x, -1) * 3
x = torch.randn(32, 16, dtype=torch.float64)
for device in ("cpu", "extdev"):
    counters.clear()
    torch._dynamo.reset()
    out = torch.compile(f)(x.to(device))
    torch.testing.assert_close(out.cpu(), f(x))
    print(device, counters["inductor"]["fxgraph_cache_hit"], counters["inductor"]["fxgraph_cache_miss"])
"""
    env = dict(TORCHINDUCTOR_CACHE_DIR=str(tmp_path / "inductor"), TRITON_CACHE_DIR=str(tmp_path / "triton"),
               TORCHINDUCTOR_FX_GRAPH_CACHE="1")
    runs = [run_python(script, **env) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr[-3000:]
    first = dict(line.split(" ", 1) for line in runs[0].stdout.split("\n") if line)
    second = dict(line.split(" ", 1) for line in runs[1].stdout.split("\n") if line)
    assert first["extdev"] == "0 1", first  # not served cpu's graph in the same cache
    assert second["extdev"] == "1 0", second  # its own entry, in a second process


def test_unregister_keeps_the_eager_device():
    if not ext_codegen.is_registered("extdev"):
        pytest.skip("extdev is not registered")
    from torch._inductor import utils
    from torch._inductor.codegen import common

    ext_codegen.unregister("extdev")
    try:
        assert common.get_scheduling_for_device("extdev") is None
        assert "extdev" not in utils.GPU_TYPES
        from torch._inductor import ir

        assert not ir.is_triton("extdev")  # hardcoded's is_triton answer is gone with it
        torch.testing.assert_close((torch.ones(3, device="extdev") * 2).cpu(), torch.full((3,), 2.0))
    finally:
        ext_codegen.register("extdev")
    assert common.get_scheduling_for_device("extdev") is ext_codegen.ExtensionScheduling


@pytest.mark.parametrize("device", ["cpu", "extdev"])
def test_freeze_rng_state_compiles_with_extdev_loaded(device):
    """PyTorch's freeze_rng_state saves and restores the accelerator's RNG (extdev's, once loaded) under
    no_dispatch; Dynamo must not trace into the device module there (found by the conformance sweep)."""
    from torch.testing._internal.common_utils import freeze_rng_state

    def f(x):
        with freeze_rng_state():
            torch.manual_seed(42)
            return torch.randn(4, device=x.device) + x

    torch._dynamo.reset()
    state = torch.get_rng_state()
    out = torch.compile(f)(torch.zeros(4, device=device))
    assert out.shape == (4,) and out.device.type == device and bool(torch.isfinite(out.cpu()).all())
    assert torch.equal(torch.get_rng_state(), state)  # restored, as eager restores it


@pytest.mark.parametrize("order", [("cpu", "extdev", "cpu", "extdev"), ("cpu", "extdev", "extdev", "cpu")])
def test_compile_threads_come_back_whatever_the_order(order):
    """Both host-memory devices compile in-process; the setting returns once neither is registered."""
    from torch._inductor import config

    ext_codegen.unregister("extdev")
    try:
        before = config.compile_threads
        ext_codegen.register(order[0])
        ext_codegen.register(order[1])
        ext_codegen.unregister(order[2])
        assert config.compile_threads == 1
        ext_codegen.unregister(order[3])
        assert config.compile_threads == before
    finally:
        for device in ("cpu", "extdev"):
            if ext_codegen.is_registered(device):
                ext_codegen.unregister(device)
        ext_codegen.register("extdev")


def test_special_functions_only_cpp_implements_call_aten(gen):
    """igamma and friends: Inductor calls ATen for Triton devices, once is_triton says extdev is one."""
    a = torch.rand(64, generator=gen, dtype=torch.float64) + 0.5
    b = torch.rand(64, generator=gen, dtype=torch.float64) + 0.5
    _, code = check(lambda a, b: torch.igamma(a, b) + torch.special.zeta(a + 1, b) + a.sin(), a, b)
    assert "aten.igamma" in code or "torch.ops.aten.igamma" in code


@pytest.mark.parametrize("transposed", [False, True])
def test_convolution_forward_and_backward(gen, transposed):
    """Inductor hands extdev's convolutions channels-last inputs (it treats the device as a GPU) and
    expects contiguous results, the format of ATen's convolution_overrideable: the C++ gives them."""
    cls = torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d
    torch.manual_seed(SEED)
    ref = cls(3, 4, 3, padding=1).double()
    mod = cls(3, 4, 3, padding=1).double().to("extdev")
    mod.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 6, 6, generator=gen, dtype=torch.float64)
    xd = x.to("extdev").requires_grad_()
    torch._dynamo.reset()
    before = launch.launch_count
    torch.compile(lambda t: mod(t).relu().sum())(xd).backward()
    assert launch.launch_count > before
    x.requires_grad_()
    ref(x).relu().sum().backward()
    torch.testing.assert_close(xd.grad.cpu(), x.grad)
    torch.testing.assert_close(mod.weight.grad.cpu(), ref.weight.grad)


def test_column_sums_split_as_on_cpu(gen):
    """The device answers cpu's properties, so Inductor splits the same reductions: x.sum(0) of
    4096x1024 stays one kernel; 64 columns of 16384 rows are split in two layers, sized by the warp size.
    With 68 processors and a warp size of 1 the 4096 rows were cut in pieces of 4, unrolled, and
    mix-order reduction's assertion failed."""
    from torch._inductor.runtime.hints import DeviceProperties

    ours, cpus = DeviceProperties.create(torch.device("extdev", 0)), DeviceProperties.create(torch.device("cpu"))
    assert (ours.multi_processor_count, ours.warp_size) == (cpus.multi_processor_count, cpus.warp_size)
    x = torch.randn(4096, 1024, generator=gen)
    _, code = check(lambda t: t.sum(0), x, atol=1e-3, rtol=1e-4)
    assert code.count("@triton.jit") == 1
    x = torch.randn(16384, 64, generator=gen)
    _, code = check(lambda t: (t.sum(0), (t * t).sum(1)), x, atol=1e-3, rtol=1e-4)
    assert code.count("@triton.jit") >= 2


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
def test_lstm_and_gru_compiled_with_backward(gen, cls):
    """Compiled nn.LSTM/nn.GRU (Inductor decomposes the recurrence into matmuls and pointwise kernels)."""
    torch.manual_seed(SEED)
    ref = cls(4, 5, batch_first=True).double()
    mod = cls(4, 5, batch_first=True).double().to("extdev")
    mod.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 4, generator=gen, dtype=torch.float64)
    torch._dynamo.reset()
    before = launch.launch_count
    out = torch.compile(lambda t: mod(t)[0])(x.to("extdev"))
    out.sum().backward()
    assert launch.launch_count > before
    ref(x)[0].sum().backward()
    torch.testing.assert_close(out.cpu(), ref(x)[0])
    for p, q in zip(mod.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad.cpu(), q.grad)


def test_variance_is_the_two_step_sum_as_on_cpu(gen):
    """layer_norm's variance: Inductor gives only cpu the two-step sum (hardcoded answers it for extdev);
    the Welford form has two more reductions and ran a 4096x1024 layer_norm 12 % slower."""
    x = torch.randn(64, 256, generator=gen, dtype=torch.float64)
    w, b = torch.randn(256, generator=gen, dtype=torch.float64), torch.randn(256, generator=gen, dtype=torch.float64)
    _, code = check(lambda x, w, b: torch.nn.functional.layer_norm(x, (256,), w, b), x, w, b)
    assert "'num_reduction': 2," in code
