"""The backend registered for cuda: kernels run natively on the GPU (skipped without one)."""

import pytest
import torch
import torch.nn.functional as F
from torch._inductor.utils import run_and_get_code

import ext_codegen
from ext_codegen.inductor.wrapper import HEADER_MARK
from tests.helpers import compile_and_check, run_python

pytestmark = pytest.mark.gpu


@pytest.fixture
def ext_cuda():
    with ext_codegen.registered("cuda"):
        yield


def _check(fn, *args, atol=1e-4, rtol=1e-4, **kw):
    """The shared check, and the kernels were generated for cuda; returns the generated code."""
    _, code = compile_and_check(fn, *args, atol=atol, rtol=rtol, **kw)
    assert "device_str='cuda'" in code
    return code


def test_cuda_keeps_its_own_op_overrides_and_interface(ext_cuda):
    from torch._dynamo.device_interface import CudaInterface, get_interface_for_device
    from torch._inductor.codegen.common import get_device_op_overrides, get_scheduling_for_device

    assert get_scheduling_for_device("cuda") is ext_codegen.ExtensionScheduling
    assert get_interface_for_device("cuda") is CudaInterface
    assert not isinstance(get_device_op_overrides("cuda"), ext_codegen.CPUDeviceOpOverrides)


def test_cuda_pointwise_reduction_scan(ext_cuda):
    x = torch.randn(512, 1024, device="cuda")
    _check(lambda x: torch.softmax(x, -1), x)
    _check(lambda x: F.gelu(x) + x.sin(), x)
    code = _check(lambda x: torch.cumsum(x, 1), x, atol=1e-3)
    assert "associative_scan" in code


def test_cuda_backward(ext_cuda):
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.GELU(), torch.nn.LayerNorm(128)).cuda()
    x = torch.randn(32, 64, device="cuda")
    torch._dynamo.reset()
    loss = torch.compile(lambda x: model(x).square().mean())(x)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model.double()(x.double()).square().mean().backward()
    for g, p in zip(grads, model.parameters()):
        torch.testing.assert_close(g.double(), p.grad, atol=1e-4, rtol=1e-3)


def test_cuda_max_autotune_template(ext_cuda):
    import torch._inductor.config as cfg

    a, b = torch.randn(256, 256, device="cuda"), torch.randn(256, 256, device="cuda")
    bias = torch.randn(256, device="cuda")
    with cfg.patch(max_autotune=True, max_autotune_gemm_backends="TRITON", force_disable_caches=True):
        code = _check(lambda a, b, c: (a @ b + c).relu(), a, b, bias, atol=1e-2, rtol=1e-2)
    assert "tl.dot" in code


def test_cuda_fx_graph_cache_is_kept_apart(tmp_path, monkeypatch):
    from torch._dynamo.utils import counters
    from torch._inductor import config as inductor_config

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    fn = lambda x: (x * 3).cos()  # noqa: E731
    x = torch.randn(4096, device="cuda")
    with inductor_config.patch(fx_graph_cache=True, fx_graph_remote_cache=False):
        torch._dynamo.reset()
        counters.clear()
        _, (stock,) = run_and_get_code(torch.compile(fn), x)
        assert HEADER_MARK not in stock
        with ext_codegen.registered("cuda"):
            counters.clear()
            _, (code,) = run_and_get_code(torch.compile(fn), x)
            assert counters["inductor"]["fxgraph_cache_hit"] == 0
            assert HEADER_MARK in code


_WARM_CACHE_SCRIPT = r"""
import sys, torch, ext_codegen
from torch._dynamo.utils import counters

ext_codegen.register("cpu")
torch.manual_seed(int(sys.argv[1]))
x = torch.randn(64, 40, dtype=torch.float64)
y = torch.randn(64, 40, device="cuda")
cpu_fn = torch.compile(lambda t: (t.sin() * 2).softmax(-1))
cuda_fn = torch.compile(lambda t: (t.cos() + 1).relu())
# cpu first: on a cache hit its kernel must bind to the plugin's driver although
# CUDA's is Triton's default; then cuda, while the plugin's driver is active.
torch.testing.assert_close(cpu_fn(x), (x.sin() * 2).softmax(-1))
torch.testing.assert_close(cuda_fn(y).double(), (y.double().cos() + 1).relu())
print("hits", counters["inductor"]["fxgraph_cache_hit"])
"""


def test_kernels_from_a_warm_cache_bind_to_their_own_driver(tmp_path):
    # Two processes share an empty cache: the first compiles (misses), the
    # second loads both graphs from Inductor's FX graph cache.  Before the
    # plugin's get_raw_stream made its driver active, the second process's cpu
    # kernel was loaded by the CUDA driver: "device kernel image is invalid".
    env = {"TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor"), "TRITON_CACHE_DIR": str(tmp_path / "triton")}
    hits = []
    for seed in (1, 2):
        done = run_python(_WARM_CACHE_SCRIPT, str(seed), **env)
        assert done.returncode == 0, done.stderr[-3000:]
        hits.append(int(done.stdout.split("hits")[-1]))
    assert hits == [0, 2]
