"""The extdev device on its own: real memory, aliasing views, eager ops through the CPU fallback,
two devices, PyTorch-quality errors, autograd, optimizers, RNG, streams and events, autoload.

No Inductor here: this is the device that Inductor will later compile for.  Results are compared
with the same computation on cpu, in float64 where rounding could hide a difference.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ext_codegen.device as extdev
from ext_codegen.device import build
from tests.helpers import SEED, run_python, seeded, skip_on_gpu_host

pytestmark = skip_on_gpu_host

DEV = "extdev"


@pytest.fixture(scope="module", autouse=True)
def _loaded():
    """The device loaded (by the autoload, or here when autoloading is off) when this file's tests run, not when
    it is collected: collecting must load nothing (a GPU host's CUDA tests would run after it)."""
    extdev.load()


@pytest.fixture(autouse=True)
def _device_zero():
    """Every test starts and ends on extdev:0."""
    torch.extdev.set_device(0)
    yield
    torch.extdev.set_device(0)


# --- memory ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16, torch.int64, torch.bool,
                                   torch.complex128])
def test_round_trip_is_exact(dtype, gen):
    if dtype == torch.bool:
        host = torch.rand(5, 7, generator=gen) > 0.5
    elif dtype.is_floating_point or dtype.is_complex:
        host = torch.randn(5, 7, generator=gen, dtype=dtype)
    else:
        host = torch.randint(-2**40, 2**40, (5, 7), generator=gen, dtype=dtype)
    x = host.to(DEV)
    assert x.device == torch.device(DEV, 0) and x.dtype == dtype
    assert x.data_ptr() != 0 and x.data_ptr() != host.data_ptr()
    assert torch.equal(x.cpu(), host)


def test_storage_is_host_memory_of_the_device():
    x = torch.arange(6.0, device=DEV)
    storage = x.untyped_storage()
    assert storage.device == torch.device(DEV, 0) and storage.nbytes() == 24
    assert storage.data_ptr() == x.data_ptr() != 0


def test_memory_allocated_grows_and_shrinks():
    before = torch.extdev.memory_allocated()
    x = torch.empty(1000, dtype=torch.float64, device=DEV)
    assert torch.extdev.memory_allocated() - before == 8000
    other = torch.extdev.memory_allocated(1)
    y = torch.empty(10, dtype=torch.int32, device="extdev:1")
    assert torch.extdev.memory_allocated(1) - other == 40
    del x, y
    assert torch.extdev.memory_allocated() == before
    assert torch.extdev.memory_allocated(1) == other


def test_resize_and_storage_resize_keep_data_and_device():
    x = torch.arange(4.0, device="extdev:1")
    x.resize_(8)
    assert x.device == torch.device(DEV, 1)
    assert torch.equal(x[:4].cpu(), torch.arange(4.0))
    storage = torch.ones(3, device=DEV).untyped_storage()
    storage.resize_(100)
    assert storage.nbytes() == 100 and storage.device == torch.device(DEV, 0)


# --- views must alias ------------------------------------------------------------------------

@pytest.mark.parametrize("make_view", [
    lambda x: x.view(12),
    lambda x: x[1:],
    lambda x: x.t(),
    lambda x: x.reshape(2, 6),
    lambda x: x.view(12).unfold(0, 3, 2),
    lambda x: x.as_strided((2, 2), (1, 4), 1),
    lambda x: x.diagonal(),
    lambda x: x[:, 1],
    lambda x: x.view(torch.int64),
], ids=["view", "slice", "t", "reshape", "unfold", "as_strided", "diagonal", "select", "view_dtype"])
def test_views_alias_their_base(make_view):
    reference = torch.arange(12.0, dtype=torch.float64).view(3, 4)
    x = reference.to(DEV)
    view = make_view(x)
    assert view.device == x.device
    assert view.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    view.zero_()
    make_view(reference).zero_()
    assert torch.equal(view.cpu(), make_view(reference))
    assert torch.equal(x.cpu(), reference)  # the write went through to the base


def test_complex_views_alias_and_conj_copies():
    z = torch.zeros(3, dtype=torch.complex64, device=DEV)
    z.real.add_(1)
    torch.view_as_real(z)[:, 1].fill_(2)
    assert torch.equal(z.cpu(), torch.full((3,), 1 + 2j, dtype=torch.complex64))
    assert torch.equal(z.conj().cpu(), z.cpu().conj())  # _copy_from resolves the conj bit
    assert torch.equal((-z).cpu(), -z.cpu())


# --- ops through the fallback ----------------------------------------------------------------

def _both(fn, *tensors):
    """``fn`` on cpu float64 copies and on extdev copies; both results as cpu tensors."""
    cpu = [t.double() if t.is_floating_point() else t for t in tensors]
    dev = [t.to(DEV) for t in cpu]
    out_cpu, out_dev = fn(*cpu), fn(*dev)
    return out_cpu, (out_dev.cpu() if isinstance(out_dev, torch.Tensor) else [o.cpu() for o in out_dev])


@pytest.mark.parametrize("fn", [
    lambda a, b: a @ b.t(),
    lambda a, b: torch.softmax(a, -1),
    lambda a, b: F.layer_norm(a, (a.shape[-1],)),
    lambda a, b: (a * b).sum(0),
    lambda a, b: torch.cumsum(a, 1),
    lambda a, b: torch.sort(a, 1),
    lambda a, b: torch.where(a > 0, a, b),
    lambda a, b: a[a > 0],
    lambda a, b: a[torch.tensor([2, 0])],
    lambda a, b: F.conv2d(a[None, None], b[None, None, :3, :3], padding=1),
    lambda a, b: torch.cat([a, b, a], 1),
    lambda a, b: a + torch.tensor(2.0, dtype=torch.float64),  # a cpu scalar is allowed, as for cuda
], ids=["mm", "softmax", "layer_norm", "mul_sum", "cumsum", "sort", "where", "mask", "index", "conv2d",
        "cat", "cpu_scalar"])
def test_ops_match_cpu(fn, gen):
    a, b = torch.randn(4, 5, generator=gen), torch.randn(4, 5, generator=gen)
    expected, got = _both(fn, a, b)
    torch.testing.assert_close(got, expected)  # same CPU kernels; float64 leaves only rounding


def test_inplace_ops_match_cpu_and_write_through_views(gen):
    host = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    x = host.to(DEV)
    for t in (host, x):
        t.t().mul_(2)  # non-contiguous in-place
        t[1:3].add_(t[0])
        t.clamp_(min=-1.0)
        t.index_put_((torch.tensor([0, 3]),), torch.tensor(5.0, dtype=torch.float64))
        t[:, 0].scatter_add_(0, torch.tensor([0, 0, 1, 2]).to(t.device), torch.ones(4, dtype=torch.float64).to(t.device))
    assert torch.equal(x.cpu(), host)


def test_out_variants_match_cpu_and_resize():
    a = torch.randn(3, 4, dtype=torch.float64)
    out = torch.empty(0, dtype=torch.float64, device=DEV)
    torch.add(a.to(DEV), 1.5, out=out)
    assert out.shape == (3, 4) and out.device == torch.device(DEV, 0)
    assert torch.equal(out.cpu(), a + 1.5)
    base = torch.zeros(6, dtype=torch.float64, device=DEV)
    torch.sum(a.to(DEV), 1, out=base[::2])  # a strided out= is written where it lies
    assert torch.equal(base.cpu()[::2], a.sum(1)) and not base.cpu()[1::2].any()


def test_set_shares_storage():
    source = torch.arange(6.0, device=DEV)
    x = torch.empty(0, device=DEV).set_(source.untyped_storage(), 2, (2, 2), (2, 1))
    x.fill_(0)
    assert torch.equal(source.cpu(), torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0, 0.0]))
    y = torch.empty(0, device=DEV).set_(source)
    assert y.data_ptr() == source.data_ptr()


def test_save_and_load_round_trip(tmp_path):
    x = torch.randn(3, 2, device="extdev:1")
    torch.save({"x": x}, tmp_path / "x.pt")
    y = torch.load(tmp_path / "x.pt")["x"]
    assert y.device == torch.device(DEV, 1) and torch.equal(y.cpu(), x.cpu())


# --- two devices -----------------------------------------------------------------------------

def test_device_index_is_kept_through_ops():
    x = torch.randn(4, 4, device="extdev:1")
    for y in (x + 1, x @ x, x.sum(), x.t().contiguous(), torch.relu(x), x.to(torch.float64), x.clone()):
        assert y.device == torch.device(DEV, 1)
    z = x.to("extdev:0")
    assert z.device == torch.device(DEV, 0) and torch.equal(z.cpu(), x.cpu())


def test_set_device_and_device_context():
    assert torch.extdev.device_count() == 2 and torch.extdev.is_available()
    torch.extdev.set_device(1)
    assert torch.extdev.current_device() == 1
    assert torch.empty(1, device=DEV).device.index == 1
    with torch.extdev.device(0):
        assert torch.empty(1, device=DEV).device.index == 0
        assert torch.randn(2, device=DEV).device.index == 0
    assert torch.extdev.current_device() == 1
    torch.extdev.set_device("extdev:0")
    assert torch.extdev.current_device() == 0


# --- errors ----------------------------------------------------------------------------------

def test_a_device_that_does_not_exist_names_the_count():
    with pytest.raises(RuntimeError, match="extdev:7 is not a device: there are 2 extdev devices"):
        torch.empty(2, device="extdev:7")
    with pytest.raises(RuntimeError, match="extdev:2 is not a device: there are 2 extdev devices"):
        torch.ones(2).to("extdev:2")
    with pytest.raises(RuntimeError, match="there are 2 extdev devices"):
        torch.extdev.set_device(5)
    assert torch.extdev.current_device() == 0


@pytest.mark.parametrize("fn", [
    lambda a, b: a + b,
    lambda a, b: a @ b,
    lambda a, b: torch.cat([a, b]),
    lambda a, b: torch.where(a > 0, a, b),
    lambda a, b: F.conv2d(a[None, None], b[None, None]),
], ids=["add", "mm", "cat", "where", "conv2d"])
@pytest.mark.parametrize("devices", [("cpu", DEV), (DEV, "cpu"), (DEV, "extdev:1")])
def test_mixing_devices_raises_as_cuda_does(fn, devices):
    a, b = torch.ones(3, 3, device=devices[0]), torch.ones(3, 3, device=devices[1])
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        fn(a, b)


def test_an_op_without_cpu_kernel_names_the_op():
    with pytest.raises(NotImplementedError, match="_fused_dropout"):
        torch.ops.aten._fused_dropout(torch.ones(4, device=DEV), 0.5)


# --- autograd and training -------------------------------------------------------------------

def test_backward_matches_cpu(gen):
    w_cpu = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    x_cpu = torch.randn(4, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    w_dev = w_cpu.detach().to(DEV).requires_grad_()
    x_dev = x_cpu.detach().to(DEV).requires_grad_()
    for w, x in ((w_cpu, x_cpu), (w_dev, x_dev)):
        y = torch.tanh(x @ w).softmax(-1)
        (y * y).sum().backward()
    assert w_dev.grad.device == torch.device(DEV, 0)
    torch.testing.assert_close(w_dev.grad.cpu(), w_cpu.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(x_dev.grad.cpu(), x_cpu.grad, rtol=1e-12, atol=1e-12)


def test_backward_on_the_second_device_and_across_devices():
    a = torch.ones(3, device="extdev:1", requires_grad=True)
    (a.to("extdev:0") * a.to("extdev:0")).sum().backward()
    assert a.grad.device == torch.device(DEV, 1)
    assert torch.equal(a.grad.cpu(), torch.full((3,), 2.0))


@pytest.mark.parametrize("transposed", [False, True])
def test_convolution_backward_matches_cpu(transposed):
    torch.manual_seed(SEED)
    cls = torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d
    ref = cls(2, 4, 3, padding=1, groups=2).double()
    mod = cls(2, 4, 3, padding=1, groups=2).double().to(DEV)
    mod.load_state_dict(ref.state_dict())
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    xd = x.detach().to(DEV).requires_grad_()
    ref(x).pow(2).sum().backward()
    mod(xd).pow(2).sum().backward()
    torch.testing.assert_close(xd.grad.cpu(), x.grad)
    torch.testing.assert_close(mod.weight.grad.cpu(), ref.weight.grad)
    torch.testing.assert_close(mod.bias.grad.cpu(), ref.bias.grad)


@pytest.mark.parametrize("make_optimizer", [
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: torch.optim.Adam(p, lr=0.05),  # foreach: extdev counts as a foreach device
    lambda p: torch.optim.AdamW(p, lr=0.05, foreach=False),
], ids=["sgd", "adam", "adamw"])
def test_optimizer_steps_match_cpu(make_optimizer):
    torch.manual_seed(SEED)
    ref = torch.nn.Linear(4, 3).double()
    mod = torch.nn.Linear(4, 3).double().extdev()
    mod.load_state_dict(ref.state_dict())
    assert mod.weight.is_extdev
    opt_ref, opt = make_optimizer(ref.parameters()), make_optimizer(mod.parameters())
    x = torch.randn(8, 4, dtype=torch.float64)
    for _ in range(3):
        for m, o, inp in ((ref, opt_ref, x), (mod, opt, x.extdev())):
            o.zero_grad()
            m(inp).pow(2).sum().backward()
            o.step()
    assert mod.weight.device == torch.device(DEV, 0)
    torch.testing.assert_close(mod.weight.cpu(), ref.weight, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(mod.bias.cpu(), ref.bias, rtol=1e-12, atol=1e-12)


# --- random numbers --------------------------------------------------------------------------

def test_manual_seed_makes_extdev_random_ops_reproducible():
    torch.manual_seed(0)
    a = torch.randn(3, device=DEV).cpu()
    b = torch.rand(2, 2, device="extdev:1").cpu()
    torch.manual_seed(0)
    assert torch.equal(torch.randn(3, device=DEV).cpu(), a)
    assert torch.equal(torch.rand(2, 2, device="extdev:1").cpu(), b)
    torch.extdev.manual_seed(0)  # the device's generator is the cpu one: same stream as cpu
    assert torch.equal(torch.randn(3), a)


def test_rng_state_round_trip_and_fork_rng():
    torch.extdev.manual_seed(123)
    assert torch.extdev.initial_seed() == 123
    state = torch.extdev.get_rng_state()
    a = torch.randn(4, device=DEV).cpu()
    torch.extdev.set_rng_state(state)
    assert torch.equal(torch.randn(4, device=DEV).cpu(), a)
    with torch.random.fork_rng(devices=[0], device_type=DEV):
        torch.randn(100, device=DEV)
    assert not torch.equal(torch.randn(4, device=DEV).cpu(), a)
    torch.extdev.set_rng_state(state)
    with torch.random.fork_rng(devices=[0], device_type=DEV):
        torch.randn(100, device=DEV)
    assert torch.equal(torch.randn(4, device=DEV).cpu(), a)  # fork_rng restored the state


def test_dropout_and_generators():
    x = torch.ones(1000, device=DEV)
    y = F.dropout(x, 0.5)
    assert y.device == x.device and 300 < int((y == 0).sum()) < 700
    g = seeded(DEV)
    first = torch.randn(3, device=DEV, generator=g).cpu()
    g.manual_seed(SEED)
    assert torch.equal(torch.randn(3, device=DEV, generator=g).cpu(), first)


# --- streams and events ----------------------------------------------------------------------

def test_events_time_host_work():
    start, end = torch.extdev.Event(enable_timing=True), torch.extdev.Event(enable_timing=True)
    start.record()
    torch.randn(200, 200, device=DEV) @ torch.randn(200, 200, device=DEV)
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0
    generic = torch.Event(device=DEV, enable_timing=True)  # PyTorch's own class works too
    generic.record()
    assert end.elapsed_time(generic) >= 0


def test_streams_are_always_idle():
    s = torch.extdev.current_stream()
    assert s.device == torch.device(DEV, 0) and s == torch.extdev.default_stream(0)
    assert torch.extdev.Stream(1).device_index == 1
    assert s.query()
    s.synchronize()
    s.wait_stream(torch.extdev.Stream(1))
    s.wait_event(s.record_event())
    with torch.extdev.stream(s), s:
        torch.extdev.set_stream(s)
    torch.extdev.synchronize()
    torch.extdev.synchronize(1)
    with pytest.raises(RuntimeError, match="there are 2 extdev devices"):
        torch.extdev.synchronize(3)


def test_the_device_module_is_registered():
    assert torch.get_device_module(DEV) is torch.extdev
    assert torch.extdev.is_initialized() and not torch.extdev._is_in_bad_fork()
    assert torch.ones(1).extdev(1).device == torch.device(DEV, 1)
    assert torch.ones(1).untyped_storage().extdev().device.type == DEV
    assert torch.accelerator.device_count() == 2


# --- loading ---------------------------------------------------------------------------------

def test_load_is_idempotent():
    extdev.load()
    extdev.load()
    assert torch._C._get_privateuse1_backend_name() == DEV
    assert build.last_load in ("built", "cache")


def test_a_second_process_loads_from_the_cache_fast():
    out = run_python("""
        import ext_codegen.device as e
        e.load()
        from ext_codegen.device import build
        print(build.last_load, build.last_build_seconds)
    """, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert out.returncode == 0, out.stderr
    how, seconds = out.stdout.split()
    assert how == "cache" and float(seconds) < 1.0


def test_import_torch_autoloads_the_device():
    out = run_python("import torch; print(torch.randn(2, device='extdev').device)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "extdev:0"


@pytest.mark.parametrize("first", ["ext_codegen.device.build", "ext_codegen.device.module", "ext_codegen"])
def test_importing_a_part_of_the_package_before_torch(first):
    # Its own `import torch` runs the autoload, which imports this package: no half-initialised module.
    out = run_python(f"import {first}; import torch; print(torch.ones(1, device='extdev').device)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "extdev:0"


def test_without_autoload_the_device_is_unknown_until_load():
    out = run_python("""
        import torch
        try:
            torch.empty(1, device="extdev")
        except RuntimeError as err:
            print("refused:", err)
        import ext_codegen.device as e
        e.load()
        print(torch.empty(1, device="extdev").device)
    """, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert out.returncode == 0, out.stderr
    refused, loaded = out.stdout.strip().splitlines()
    assert refused.startswith("refused:") and "extdev" in refused
    assert loaded == "extdev:0"


def test_load_refuses_a_privateuse1_backend_of_another_name():
    out = run_python("""
        import torch
        torch.utils.rename_privateuse1_backend("otherdev")
        import ext_codegen.device as e
        e.load()
    """, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert out.returncode != 0
    assert "PrivateUse1 is already the 'otherdev' backend" in out.stderr


def test_a_failed_build_warns_and_leaves_import_torch_working(tmp_path):
    # A compiler that always fails, and an empty cache: the build must be attempted and fail.
    out = run_python("import torch; print('imported', hasattr(torch, 'extdev'))",
                     CXX="/bin/false", EXT_CODEGEN_CACHE=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "imported False"
    assert "the extdev device is unavailable" in out.stderr
    assert "TORCH_DEVICE_BACKEND_AUTOLOAD=0" in out.stderr


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
@pytest.mark.parametrize("create_graph", [False, True], ids=["fused-backward", "differentiable-backward"])
def test_lstm_and_gru_forward_and_backward_match_cpu(cls, create_graph):
    """ATen runs an accelerator's RNN cells with fused CUDA-only ops; ext_codegen.device.rnn supplies them."""
    torch.manual_seed(SEED)
    ref = cls(4, 5, num_layers=2, batch_first=True).double()
    mod = cls(4, 5, num_layers=2, batch_first=True).double().to(DEV)
    mod.load_state_dict(ref.state_dict())
    x = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)
    xd = x.detach().to(DEV).requires_grad_()
    want, got = ref(x), mod(xd)
    for w, g in zip(torch.utils._pytree.tree_leaves(want), torch.utils._pytree.tree_leaves(got)):
        torch.testing.assert_close(g.cpu(), w)
    # Both the output sequence and the final state feed the loss, so every gradient input is used.
    loss = lambda out: sum(t.pow(2).sum() for t in torch.utils._pytree.tree_leaves(out))  # noqa: E731
    grads = torch.autograd.grad(loss(want), [x, *ref.parameters()])
    grads_d = torch.autograd.grad(loss(got), [xd, *mod.parameters()], create_graph=create_graph)
    for w, g in zip(grads, grads_d):
        torch.testing.assert_close(g.cpu(), w)


def test_sparse_tensors_and_their_ops_match_cpu():
    """COO and CSR tensors on the device: made, copied, computed (the sparse fallback), written in place."""
    torch.manual_seed(SEED)
    x = torch.randn(4, 5, dtype=torch.float64) * (torch.rand(4, 5) < 0.4)
    m = torch.randn(5, 3, dtype=torch.float64)
    coo = x.to(DEV).to_sparse()
    assert (coo.device, coo.layout) == (torch.device(DEV, 0), torch.sparse_coo)
    assert coo._values().device == coo.device
    torch.testing.assert_close(coo.cpu().to_dense(), x)
    torch.testing.assert_close((coo + coo).to_dense().cpu(), 2 * x)
    coo.mul_(3.0)  # the fallback puts the cpu result back into the device's tensor
    assert coo.device == torch.device(DEV, 0)
    torch.testing.assert_close(coo.to_dense().cpu(), 3 * x)
    csr = x.to_sparse_csr().to(DEV)
    assert (csr.device, csr.layout, csr.crow_indices().device) == (coo.device, torch.sparse_csr, coo.device)
    torch.testing.assert_close(torch.sparse.mm(csr, m.to(DEV)).cpu(), x @ m)
    a, b = torch.randn(4, 2, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    got = torch.sparse.sampled_addmm(csr, a.to(DEV), b.to(DEV))
    assert got.device == coo.device
    torch.testing.assert_close(got.to_dense().cpu(), torch.sparse.sampled_addmm(x.to_sparse_csr(), a, b).to_dense())
    with pytest.raises(RuntimeError, match="same device"):
        coo + x.to_sparse()


@pytest.mark.parametrize("first", ["torch", "torch._inductor.config", "torch._dynamo.device_interface", "ext_codegen"])
def test_the_compiler_is_registered_once_dynamo_and_inductor_are_imported(first):
    """import torch loads the device at once and registers the compiler only when the compiler's packages arrive."""
    out = run_python(f"""
        import sys
        import {first}
        import torch
        print("torch._dynamo" in sys.modules and "torch._inductor" in sys.modules)
        y = torch.compile(lambda x: x * 2 + 1)(torch.ones(3, device="extdev:1"))
        import ext_codegen
        from ext_codegen.triton_backend import launch
        print(ext_codegen.is_registered("extdev"), y.device, y.cpu().tolist(), launch.launch_count)
    """)
    assert out.returncode == 0, out.stderr
    imported, compiled = out.stdout.strip().splitlines()
    assert imported == str(first.startswith("torch._"))  # the package imports Inductor only on first use
    assert compiled == "True extdev:1 [3.0, 3.0, 3.0] 1"
