"""What several test files need, one helper for each job.

- :data:`SEED` and :func:`seeded`: the one seed of the suite.  Inputs come
  from the ``gen`` fixture (``tests/conftest.py``), ``seeded()``: a cpu
  generator seeded with ``SEED``, fresh for each test.  A test that needs a
  generator on another device, or the same draws twice, calls
  ``seeded(device)``; one that builds ``nn`` modules seeds the global
  generator with ``torch.manual_seed(SEED)`` first.
- :data:`skip_on_gpu_host` and :func:`backend_registered`: for tests of the
  ``extdev`` device in this process, and of a backend the autoload may
  already have registered.
- :func:`compile_and_check`: compile with the registered backend, check that
  our Triton ran, compare with eager (on cpu, on ``extdev``, on ``cuda``).
- :func:`assert_same` and :func:`assert_identical`: outputs close to a
  reference, or equal to another bit for bit.
- :func:`to_device`: the tensors of a nested structure moved to a device.
- :func:`run_python`: Python code in a fresh interpreter of this environment.
- :func:`load_script`: import one of the repository's scripts (``benchmarks/``,
  ``scripts/``), which are not packages.
- :func:`on_interpreter`: launch hand-written Triton kernels on the package's driver.
"""

from __future__ import annotations

import contextlib
import os

import pytest
import torch
from torch._inductor.utils import run_and_get_code

from ext_codegen.inductor.wrapper import HEADER_MARK
from ext_codegen.names import HOST_DEVICES

#: The repository's root: scripts are named relative to it.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The seed of every generator the tests draw from (see the module docstring).
SEED = 1234


def seeded(device="cpu") -> torch.Generator:
    """A new generator on ``device``, seeded with :data:`SEED`."""
    return torch.Generator(device).manual_seed(SEED)


#: Marks a test (or a file, as ``pytestmark``) that uses ``extdev`` in this process: skipped on a GPU host.
#: There PyTorch makes a loaded PrivateUse1 device the accelerator ahead of CUDA, and CUDA's backward
#: passes in the GPU tests of the same session fail; the device is tested there in a subprocess
#: (``tests/gpu/test_extdev_beside_cuda.py``), and the autoload leaves it unloaded.
skip_on_gpu_host = pytest.mark.skipif(torch.cuda.is_available(),
                                      reason="extdev on a GPU host: tests/gpu/test_extdev_beside_cuda.py")


@contextlib.contextmanager
def backend_registered(device):
    """The extension backend registered for ``device`` inside the block, and as before after it.

    For ``extdev`` the autoload has usually registered it already; then it
    stays registered.  Otherwise it is registered here and unregistered after
    (unless the block unregistered it itself).  Yields ``device``.
    """
    import ext_codegen

    ours = not ext_codegen.is_registered(device)
    if ours:
        ext_codegen.register(device)
    try:
        yield device
    finally:
        if ours and ext_codegen.is_registered(device):
            ext_codegen.unregister(device)


def compile_and_check(fn, *args, device=None, atol=1e-5, rtol=1e-4, reference_dtype=torch.float64,
                      **compile_kwargs):
    """Compile ``fn`` with the registered backend, check it ran our Triton, compare with eager.

    The compiled ``fn`` runs on ``args``, or on their copies on ``device`` when
    one is given (its outputs must be there too).  The reference is eager
    ``fn`` on the original ``args``, floating ones upcast to
    ``reference_dtype``; the comparison is in float64 (exact for other dtypes).
    On the devices whose kernels the package's launcher runs (cpu, extdev),
    the launcher must have run at least one kernel.
    Returns the compiled output and the generated code.
    """
    from ext_codegen.triton_backend import launch

    torch._dynamo.reset()
    inputs = args if device is None else to_device(args, device)
    before = launch.launch_count
    out, codes = run_and_get_code(torch.compile(fn, **compile_kwargs), *inputs)
    code = "\n".join(codes)
    assert "@triton.jit" in code, "no Triton kernel was generated"
    assert HEADER_MARK in code, "the wrapper was not written by ExtensionWrapperCodegen"
    devices = {t.device.type for t in torch.utils._pytree.tree_leaves(inputs) if isinstance(t, torch.Tensor)}
    if device is not None:
        outputs = {t.device.type for t in torch.utils._pytree.tree_leaves(out) if isinstance(t, torch.Tensor)}
        assert outputs <= {torch.device(device).type}, f"outputs on {outputs}, not on {device}"
    if devices & set(HOST_DEVICES):
        assert launch.launch_count > before, "no kernel of the package ran"
    ref_args = [
        a.to(reference_dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args
    ]
    ref = fn(*ref_args)
    assert_same(to_device(out, "cpu") if device is not None else out, ref, atol=atol, rtol=rtol)
    return out, code


def assert_same(out, ref, atol, rtol):
    """``out`` (a tensor, or nested tuples and lists of them) close to ``ref``: in float64, exact for other dtypes."""
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


def assert_identical(a, b):
    """``a`` and ``b`` (tensors, or nested tuples and lists of them) equal bit for bit, strides and NaN payloads included."""
    if isinstance(a, (tuple, list)):
        for x, y in zip(a, b):
            assert_identical(x, y)
        return
    assert a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
    if a.is_floating_point():
        # bit for bit, NaN payloads included
        ints = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
        assert torch.equal(a.contiguous().view(ints), b.contiguous().view(ints))
    else:
        assert torch.equal(a, b)


def to_device(tree, device):
    """``tree`` (tensors, nested in tuples, lists and dicts) with every tensor moved to ``device``."""
    return torch.utils._pytree.tree_map(lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, tree)


def run_python(code: str, *args: str, timeout: float = 600, **env: str):
    """Run ``code`` (dedented) with ``args`` in a fresh interpreter of this environment, ``env`` added to
    its environment; returns the :class:`subprocess.CompletedProcess`, output as text."""
    import subprocess
    import sys
    import textwrap

    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=timeout)


def load_script(path):
    """Import the script at ``path`` (relative to the repository's root, or absolute) as a module named by its stem.

    ``benchmarks/`` and ``scripts/`` are folders of scripts, not packages; the
    module goes into ``sys.modules`` first, since dataclasses look their module
    up there while a class is built.
    """
    import importlib.util
    import pathlib
    import sys

    path = pathlib.Path(ROOT, path)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
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
