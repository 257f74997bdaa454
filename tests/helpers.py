"""Compile with the extension backend, run, and check against eager."""

from __future__ import annotations

import torch
from torch._inductor.utils import run_and_get_code

from ext_codegen.inductor.wrapper import HEADER_MARK


def compile_and_check(fn, *args, atol=1e-5, rtol=1e-4, reference_dtype=torch.float64, **compile_kwargs):
    """Compile ``fn`` with the registered backend, check it ran our Triton, compare with eager.

    The reference is eager ``fn`` on inputs upcast to ``reference_dtype``
    (floating inputs only), cast back to the compiled output's dtype.
    Returns the compiled output and the generated code.
    """
    torch._dynamo.reset()
    out, codes = run_and_get_code(torch.compile(fn, **compile_kwargs), *args)
    code = "\n".join(codes)
    assert "@triton.jit" in code, "no Triton kernel was generated"
    assert HEADER_MARK in code, "the wrapper was not written by ExtensionWrapperCodegen"
    ref_args = [
        a.to(reference_dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args
    ]
    ref = fn(*ref_args)
    assert_same(out, ref, atol=atol, rtol=rtol)
    return out, code


def assert_same(out, ref, atol, rtol):
    if isinstance(out, (tuple, list)):
        assert len(out) == len(ref)
        for o, r in zip(out, ref):
            assert_same(o, r, atol, rtol)
        return
    assert out.shape == ref.shape, (out.shape, ref.shape)
    if out.is_floating_point():
        torch.testing.assert_close(out.double(), ref.double(), atol=atol, rtol=rtol, equal_nan=True)
    else:
        assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
        assert torch.equal(out, ref)


def load_benchmark(name: str):
    """Import ``benchmarks/<name>.py`` (a script folder, not a package) as module ``name``."""
    import importlib.util
    import os
    import sys

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def on_interpreter():
    """A context in which hand-written Triton kernels launch on this package's driver.

    Triton launches on its active driver: ours by default on a machine
    without a GPU; on a GPU machine it has to be selected.
    """
    import contextlib

    from triton.runtime.driver import driver

    from ext_codegen.triton_backend.driver import InterpreterDriver

    @contextlib.contextmanager
    def active():
        driver.set_active(InterpreterDriver())
        try:
            yield
        finally:
            driver.reset_active()

    return active()
