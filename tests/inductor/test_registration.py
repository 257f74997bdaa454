"""register/unregister: exact, reversible, loud on misuse, and caches kept apart."""

import os

import pytest
import torch
from torch._dynamo import device_interface as dyn_di
from torch._inductor import config as inductor_config
from torch._inductor.codegen import common as codegen_common
from torch._inductor.utils import run_and_get_code

import ext_codegen
from ext_codegen.inductor.registration import SUPPORTED_DEVICES


def _snapshot(device):
    ext_codegen.inductor.registration._initialise_inductor_registries()
    return (
        codegen_common.device_codegens.get(device),
        codegen_common.custom_backend_passes.get(device),
        codegen_common.custom_backend_codegen_configs.get(device),
        codegen_common.device_op_overrides_dict.get(device),
        dyn_di.device_interfaces.get(device),
        inductor_config.cpu_backend,
        inductor_config.compile_threads,
    )


def test_unregister_restores_everything():
    before = _snapshot("cpu")
    ext_codegen.register("cpu")
    during = _snapshot("cpu")
    assert during != before
    assert isinstance(during[3], ext_codegen.CPUDeviceOpOverrides)
    assert during[4] is ext_codegen.DeviceInterface
    assert during[5] == "triton"
    ext_codegen.unregister("cpu")
    after = _snapshot("cpu")
    assert all(a is b or a == b for a, b in zip(after, before))


def test_stock_cpu_compiles_cpp_again_after_unregister(gen):
    x = torch.randn(100, generator=gen)
    with ext_codegen.registered("cpu"):
        torch._dynamo.reset()
        _, (code,) = run_and_get_code(torch.compile(lambda x: x.sin() + 1), x)
        assert "@triton.jit" in code
    torch._dynamo.reset()
    out, (code,) = run_and_get_code(torch.compile(lambda x: x.sin() + 1), x)
    assert "@triton.jit" not in code and "cpp_fused" in code
    torch.testing.assert_close(out, x.sin() + 1)


def test_context_manager_unregisters_on_error():
    with pytest.raises(ZeroDivisionError):
        with ext_codegen.registered("cpu"):
            assert ext_codegen.is_registered("cpu")
            1 / 0
    assert not ext_codegen.is_registered("cpu")


def test_misuse_is_loud_and_leaves_registry_unchanged():
    before = _snapshot("cpu")
    with pytest.raises(ValueError, match="supported are"):
        ext_codegen.register("mps")
    with pytest.raises(RuntimeError, match="not registered"):
        ext_codegen.unregister("cpu")
    assert _snapshot("cpu") == before
    with ext_codegen.registered("cpu"):
        during = _snapshot("cpu")
        with pytest.raises(RuntimeError, match="already registered"):
            ext_codegen.register("cpu")
        assert _snapshot("cpu") == during
    assert _snapshot("cpu") == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_register_cuda_without_gpu_is_an_error():
    before = _snapshot("cuda")
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        ext_codegen.register("cuda")
    assert _snapshot("cuda") == before
    assert "cuda" in SUPPORTED_DEVICES


def test_fx_graph_cache_never_serves_the_other_backend(tmp_path, monkeypatch, gen):
    """Compile the same function with stock Inductor, then ours, with the FX graph cache on."""
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    from torch._inductor.codecache import FxGraphCache  # noqa: F401
    from torch._dynamo.utils import counters

    # A constant no earlier test used: the graph's cache key is new in this run,
    # whatever other tests (or an earlier run sharing the cache) compiled.
    scale = 2.0 + int.from_bytes(os.urandom(4), "little") / 2**32
    fn = lambda x: (x * scale).cos()  # noqa: E731
    x = torch.randn(64, generator=gen)
    with inductor_config.patch(fx_graph_cache=True, fx_graph_remote_cache=False):
        torch._dynamo.reset()
        counters.clear()
        _, (stock_code,) = run_and_get_code(torch.compile(fn), x)
        assert "@triton.jit" not in stock_code
        assert counters["inductor"]["fxgraph_cache_hit"] == 0
        with ext_codegen.registered("cpu"):
            counters.clear()
            out, (code,) = run_and_get_code(torch.compile(fn), x)
            assert counters["inductor"]["fxgraph_cache_hit"] == 0
            assert "@triton.jit" in code
            torch.testing.assert_close(out, fn(x))
            # and our own artifact is reused by our backend
            torch._dynamo.reset()
            counters.clear()
            torch.compile(fn)(x)
            assert counters["inductor"]["fxgraph_cache_hit"] == 1, (dict(counters["inductor"]), dict(counters["aot_autograd"]))
        torch._dynamo.reset()
        counters.clear()
        _, (again,) = run_and_get_code(torch.compile(fn), x)
        assert "@triton.jit" not in again
    assert os.listdir(tmp_path)


def test_cache_key_names_the_package_sources():
    # An edited copy of the package must not be served graphs that the
    # unedited one compiled: the key carries a hash of every source file.
    from ext_codegen.inductor.registration import CacheKeyPass, source_hash

    key = CacheKeyPass("cpu").uuid()
    assert source_hash() in key and key.endswith("-cpu")
    assert len(source_hash()) == 16 and int(source_hash(), 16) >= 0
