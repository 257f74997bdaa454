"""The compatibility module and the matrix script: what holds on every supported release."""

import inspect
import subprocess
import sys
from pathlib import Path

from torch._inductor.scheduler import BaseScheduling

from ext_codegen import ExtensionScheduling
from ext_codegen.compat import torch_versions, triton_versions
from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[2]


def test_compat_imports_neither_torch_nor_triton():
    """Triton imports the plugin (and so compat) while ``import triton`` is still running."""
    code = ("import sys, ext_codegen.compat.torch_versions, ext_codegen.compat.triton_versions; "
            "print(sorted(m for m in ('torch', 'triton') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_attributes_match_the_installed_releases():
    import torch
    import triton

    assert torch_versions.TORCH_VERSION == tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
    assert triton_versions.TRITON_VERSION == tuple(int(p) for p in triton.__version__.split(".")[:2])


def test_release_specific_hooks_are_forwarded_exactly_where_torch_has_them():
    for hook in torch_versions.SCHEDULING_HOOKS:
        assert (hook.name in vars(ExtensionScheduling)) == (hook.name in vars(BaseScheduling)), hook.name


def test_forwarding_skips_hooks_a_class_defines_itself():
    class Own(BaseScheduling):
        pass

    names = [h.name for h in torch_versions.SCHEDULING_HOOKS if h.name in vars(BaseScheduling)]
    for name in names:
        setattr(Own, name, lambda self, *a: "own")
    assert torch_versions.forward_release_specific_hooks(Own) == []


def test_backend_options_have_the_release_specific_fields():
    from triton.backends.compiler import GPUTarget

    from ext_codegen.triton_backend.compiler import InterpreterBackend, InterpreterOptions

    assert issubclass(InterpreterOptions, triton_versions.ReleaseSpecificBackendOptions)
    backend = InterpreterBackend(GPUTarget("cpu", "", 1))
    options = backend.parse_options({"fpsan_homomorphic_casts": True, "unknown": 1})
    assert options.fpsan_homomorphic_casts is True


def _matrix_module():
    return load_script(ROOT / "scripts" / "compat_matrix.py")


def test_matrix_rows_merge_per_check_and_render():
    cm = _matrix_module()
    data = {"schema": cm.SCHEMA, "rows": []}
    base = {"torch": "2.14.1+cu130", "triton": "3.8.0", "python": "3.11.7", "device": "CPU", "machine": "m"}
    tests = {"date": "2026-11-25", "passed": 3, "failed": 1, "errors": 0, "skipped": 2,
             "failures": ["tests/test_x.py::test_y"], "revision": "abc"}
    cm.update(data, {**base, "tests": tests, "doctests": None, "conformance": None})
    conformance = {"date": "2026-11-26", "ops": 10, "pass": 6, "fallback": 2, "error": 2, "mismatch": 0,
                   "random": 0, "revision": "def"}
    cm.update(data, {**base, "python": "3.11.9", "tests": None, "doctests": None, "conformance": conformance})
    assert len(data["rows"]) == 1 and data["rows"][0]["tests"] == tests
    table = cm.render_markdown(data)
    assert "| 2.14.1+cu130 | 3.8.0 |" in table
    assert "3 passed, **1 failed**, 2 skipped" in table
    assert "6 pass, 2 fallback, 2 error, 0 mismatch (of 10 ops)" in table
    assert "2026-11-25 to 2026-11-26" in table
    assert "`tests/test_x.py::test_y`" in table



def test_missing_plugin_makes_has_triton_false_not_raise(monkeypatch):
    """torch 2.14+ ``has_triton()`` catches only TritonUnavailableError from a device interface."""
    import pytest
    import torch
    import triton.backends
    from torch.utils._triton import has_triton

    import ext_codegen
    from ext_codegen.inductor.device_interface import CPUDeviceInterface

    with ext_codegen.registered("cpu"):
        with monkeypatch.context() as m:  # put the backend back before unregistering
            m.delitem(triton.backends.backends, "cpu")
            with pytest.raises(torch_versions.triton_unavailable_error()):
                CPUDeviceInterface.raise_if_triton_unavailable()
            if not torch.cuda.is_available():
                # __wrapped__: has_triton is functools.cache'd; leave its cache alone
                kwargs = {"include_cpu": True} if "include_cpu" in str(inspect.signature(has_triton)) else {}
                assert has_triton.__wrapped__(**kwargs) is False


def test_has_triton_counts_cpu_while_registered():
    from torch.utils._triton import has_triton

    import ext_codegen

    with ext_codegen.registered("cpu"):
        kwargs = {"include_cpu": True} if "include_cpu" in str(inspect.signature(has_triton)) else {}
        assert has_triton.__wrapped__(**kwargs) is True
