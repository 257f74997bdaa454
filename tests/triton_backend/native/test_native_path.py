"""The native path wired into the plugin: the switch, the stages, the launcher, fallbacks, instruments, check mode.

Each kernel is defined inside its test: Triton keeps compiled kernels per
``JITFunction`` in memory, keyed without the environment, so a kernel
compiled earlier with the switch off would be reused.
"""

from __future__ import annotations

import logging

import pytest
import torch
import triton
import triton.language as tl

from ext_codegen.triton_backend import launch
from ext_codegen.triton_backend.compiler import InterpreterBackend
from ext_codegen.triton_backend.native import check, launcher, route
from tests.helpers import on_interpreter


@pytest.fixture
def native(monkeypatch):
    """The native path on, the check mode on."""
    monkeypatch.setenv(route.ENV_NATIVE, "1")
    monkeypatch.setenv(route.ENV_CHECK, "1")


def scale_kernel():
    @triton.jit
    def scale(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = o < n
        tl.store(y_ptr + o, tl.load(x_ptr + o, mask=m) * 2.0 + 1.0, mask=m)

    return scale


def test_the_switch_is_a_compile_option_in_the_hash(monkeypatch):
    from triton.backends.compiler import GPUTarget

    backend = InterpreterBackend(GPUTarget("cpu", "", 1))
    monkeypatch.delenv(route.ENV_NATIVE, raising=False)
    default = backend.parse_options({})
    monkeypatch.setenv(route.ENV_NATIVE, "0")
    off = backend.parse_options({})
    monkeypatch.setenv(route.ENV_NATIVE, "1")
    on = backend.parse_options({})
    assert (default.native, off.native, on.native) == (True, False, True)
    assert off.hash() != on.hash()
    stages = {}
    backend.add_stages(stages, on)
    assert list(stages) == ["ttir", "c", InterpreterBackend.binary_ext]


def test_a_launch_through_triton_runs_natively(native, gen):
    scale = scale_kernel()
    x, y = torch.randn(1000, generator=gen), torch.zeros(1000)
    before, launches = route.native_launches, launch.launch_count
    with on_interpreter():
        handle = scale[(4,)](x, y, 1000, BLOCK=256)
    assert route.native_launches == before + 1
    assert launch.launch_count == launches + 1  # the check mode's interpreter run
    assert handle.metadata.native_fallback == ""
    assert "static int kernel(" in handle.asm["c"]
    assert handle.asm[InterpreterBackend.binary_ext].startswith(b"\x7fELF")
    assert torch.equal(y, x * 2.0 + 1.0)


def test_an_unsupported_op_falls_back_whole_and_is_counted(native, caplog):
    @triton.jit
    def joined(x_ptr, y_ptr, BLOCK: tl.constexpr):
        a = tl.load(x_ptr + tl.arange(0, BLOCK))
        tl.store(y_ptr + tl.arange(0, BLOCK)[:, None] * 2 + tl.arange(0, 2)[None, :], tl.join(a, a * 3))

    x, y = torch.arange(32, dtype=torch.float32), torch.zeros(64)
    before, counted = route.native_launches, route.fallbacks["unsupported: tt.join"]
    with caplog.at_level(logging.INFO, logger="ext_codegen.native"), on_interpreter():
        handle = joined[(1,)](x, y, BLOCK=32)
    assert route.native_launches == before
    assert route.fallbacks["unsupported: tt.join"] == counted + 1
    assert "kernel joined runs in the interpreter: unsupported: tt.join" in caplog.text
    assert handle.metadata.native_fallback == "unsupported: tt.join"
    assert "run by the interpreter" in handle.asm["c"]
    assert torch.equal(y.view(32, 2), torch.stack([x, x * 3], 1))


def test_without_a_c_compiler_kernels_run_interpreted_with_a_warning(native, gen, monkeypatch, caplog, tmp_path):
    from ext_codegen.triton_backend.native import build

    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))  # compiled here, not served from Triton's cache
    monkeypatch.setattr(build, "CC", "ext-codegen-no-such-cc")
    scale = scale_kernel()
    x, y = torch.randn(100, generator=gen), torch.zeros(100)
    before = route.native_launches
    with caplog.at_level(logging.INFO, logger="ext_codegen.native"), on_interpreter():
        handle = scale[(1,)](x, y, 100, BLOCK=128)
    assert route.native_launches == before and torch.equal(y, x * 2.0 + 1.0)
    assert handle.metadata.native_fallback.startswith("build failed: no C compiler: 'ext-codegen-no-such-cc'")
    assert any(r.levelno == logging.WARNING and "no C compiler" in r.getMessage() for r in caplog.records)


def test_a_failing_assert_raises_naming_the_kernel(monkeypatch):
    monkeypatch.setenv(route.ENV_NATIVE, "1")

    @triton.jit
    def checked(x_ptr, y_ptr, BLOCK: tl.constexpr):
        o = tl.arange(0, BLOCK)
        v = tl.load(x_ptr + o)
        tl.device_assert(v < 100, "index out of bounds: x < 100")
        tl.store(y_ptr + o, v)

    x = torch.arange(64, dtype=torch.int32)
    x[5] = 500
    with on_interpreter(), pytest.raises(launcher.DeviceAssertionError, match=r"checked: .*x < 100"):
        checked[(1,)](x, torch.zeros(64, dtype=torch.int32), BLOCK=64, debug=True)


def test_an_instrumented_launch_runs_in_the_interpreter(native, gen, monkeypatch):
    seen = []

    def instrument(kernel, fn, args, scope, builder):
        seen.append(kernel.__name__)
        return fn, None

    monkeypatch.setattr(launch, "instruments", [instrument])
    scale = scale_kernel()
    x, y = torch.randn(100, generator=gen), torch.zeros(100)
    before = route.native_launches
    with on_interpreter():
        scale[(1,)](x, y, 100, BLOCK=128)
    assert seen == ["scale"] and route.native_launches == before
    assert torch.equal(y, x * 2.0 + 1.0)


def test_the_check_mode_raises_on_a_mismatch(native, gen, monkeypatch):
    made = route.kernel_for

    def off_by_one_ulp(*args, **kwargs):
        kernel = made(*args, **kwargs)
        run = kernel.__call__

        class Wrong:
            def __call__(self, grid, params, threads=None):
                run(grid, params, threads)
                params[1].view(torch.int32)[7] += 1

        return Wrong()

    monkeypatch.setattr(route, "kernel_for", off_by_one_ulp)
    scale = scale_kernel()
    x, y = torch.randn(100, generator=gen), torch.zeros(100)
    with on_interpreter(), pytest.raises(check.NativeMismatch, match=r"kernel scale: .*bit for bit"):
        scale[(1,)](x, y, 100, BLOCK=128)


def test_switched_off_at_launch_a_native_kernel_is_interpreted(native, gen, monkeypatch):
    """``EXT_CODEGEN_NATIVE=0`` is read at every launch too: the interpreter runs a kernel compiled natively."""
    scale = scale_kernel()
    x, y = torch.randn(100, generator=gen), torch.zeros(100)
    with on_interpreter():
        handle = scale[(1,)](x, y, 100, BLOCK=128)
    assert handle.asm[InterpreterBackend.binary_ext].startswith(b"\x7fELF")
    monkeypatch.setenv(route.ENV_NATIVE, "0")
    y.zero_()
    before, launches = route.native_launches, launch.launch_count
    with on_interpreter():
        scale[(1,)](x, y, 100, BLOCK=128)
    assert route.native_launches == before and launch.launch_count == launches + 1
    assert torch.equal(y, x * 2.0 + 1.0)


def test_inductor_index_asserts_fire_in_native_code(ext_cpu, gen):
    """Inductor's ``tl.device_assert`` index checks are compiled too: an index out of range raises, by name."""
    from torch._inductor import config

    def masked_index(a, mask, idx):
        return torch.ops.aten._unsafe_masked_index(a, mask, [idx], 1)

    a = torch.randn(4, generator=gen, dtype=torch.float16)  # a kernel no interpreted test compiled
    before = route.native_launches
    with config.patch(debug_index_asserts=True):
        compiled = torch.compile(masked_index)
        ok = compiled(a, torch.tensor([True, False]), torch.tensor([3, -9]))
        assert torch.equal(ok, masked_index(a, torch.tensor([True, False]), torch.tensor([3, -9])))
        with pytest.raises(launcher.DeviceAssertionError, match=r"triton_.*: device assertion failed: .*index out of bounds"):
            compiled(a, torch.tensor([True, True]), torch.tensor([3, -9]))
    assert route.native_launches >= before + 2


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_special_functions_c_lacks_run_natively(ext_cpu, gen, dtype):
    """erfinv, erfcx, i0 and i1 (libdevice has them, C99 does not): the prelude's, against float64 eager."""
    y = torch.rand(4000, generator=gen, dtype=torch.float64) * 2 - 1
    y[:6] = torch.tensor([1.0, -1.0, 0.0, 1 - 1e-7, -(1 - 1e-7), 1.5])
    x = torch.randn(4000, generator=gen, dtype=torch.float64) * 8
    x[:6] = torch.tensor([0.0, 25.9, 26.1, 40.0, -3.0, float("inf")])
    big = torch.linspace(-85, 85, 4000, dtype=torch.float64)
    cases = [(torch.special.erfinv, y), (torch.special.erfcx, x), (torch.special.i0, big), (torch.special.i1, big)]
    before, fell_back = route.native_launches, sum(route.fallbacks.values())
    for fn, values in cases:
        rounded = values.to(dtype)
        out = torch.compile(fn)(rounded)
        ref = fn(rounded.double()).to(dtype).double()  # past float32's range, inf is the right answer
        torch.testing.assert_close(out.double(), ref, rtol=4e-7 if dtype == torch.float32 else 1e-12, atol=0,
                                   equal_nan=True, msg=lambda m: f"{fn.__name__}: {m}")
    assert route.native_launches >= before + len(cases) and sum(route.fallbacks.values()) == fell_back


def test_double_bessel_functions_are_computed_as_eager(ext_cpu):
    """PyTorch's y1 is up to 2e-5 off near a zero; glibc's is not. The kernel goes to the interpreter, as eager."""
    x = torch.linspace(0.5, 12, 20, dtype=torch.float64)
    counted = route.fallbacks["unsupported: tt.extern_elementwise __nv_y1 (PyTorch's own approximation, computed as eager does)"]
    assert torch.equal(torch.compile(torch.special.bessel_y1)(x), torch.special.bessel_y1(x))
    assert route.fallbacks["unsupported: tt.extern_elementwise __nv_y1 (PyTorch's own approximation, computed as eager does)"] \
        == counted + 1


def test_signbit_of_bfloat16_builds(ext_cpu):
    """GCC 12 failed with an internal error vectorising __builtin_signbit of a widened bfloat16 (OpInfo)."""
    x = torch.tensor([1.0, -0.0, 0.0, -2.5, float("nan"), -float("inf")] * 8, dtype=torch.bfloat16)
    fell_back = sum(route.fallbacks.values())
    assert torch.equal(torch.compile(torch.signbit)(x), torch.signbit(x))
    assert sum(route.fallbacks.values()) == fell_back
