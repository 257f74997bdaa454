"""On a GPU host: stock cuda, the extension on cuda and the extdev device in one process (skipped without a GPU).

Two Triton drivers compete there: NVIDIA's (the default) and the plugin's
``extdev`` one.  extdev kernels must run in the interpreter (launches
counted), cuda kernels natively (no interpreter launch), in either order.
The scenario runs in a subprocess of its own: loading a PrivateUse1 device
makes it the process's accelerator ahead of CUDA, which breaks CUDA's
backward passes (see :mod:`ext_codegen.autoload`), and the other GPU tests
of this session train on CUDA.
"""

import pytest

from tests.helpers import run_python

pytestmark = pytest.mark.gpu

SCENARIO = r"""
import sys, warnings
import torch, ext_codegen
from ext_codegen.triton_backend import launch

assert not ext_codegen.is_registered("extdev")  # the autoload leaves GPU hosts alone
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ext_codegen.register("extdev")
assert any("ahead of CUDA" in str(w.message) for w in caught)

def run(fn, x):
    torch._dynamo.reset()
    before = launch.launch_count
    out = torch.compile(fn)(x)
    torch.testing.assert_close(out.cpu().double(), fn(x.cpu().double()), atol=1e-4, rtol=1e-4)
    return launch.launch_count - before

gen = torch.Generator().manual_seed(1234)  # tests.helpers.SEED
x = torch.randn(256, 512, generator=gen)
f = lambda t: torch.softmax(t.sin() * 2, -1)
order = sys.argv[1].split(",")
for device in order * 2:
    if device == "extdev":
        assert run(f, x.to("extdev")) >= 1  # in the interpreter
        assert run(f, x.to("extdev:1")) >= 1
    else:
        assert run(f, x.cuda()) == 0  # stock Inductor, natively
        with ext_codegen.registered("cuda"):
            assert run(f, x.cuda()) == 0  # the extension on cuda, natively
from triton.runtime.driver import driver
assert type(driver.default).__name__ == "CudaDriver"  # NVIDIA's stays Triton's default
print("OK", torch.__version__, torch.cuda.get_device_name())
"""


@pytest.mark.parametrize("order", ["extdev,cuda", "cuda,extdev"])
def test_stock_cuda_extension_cuda_and_extdev_in_one_process(order):
    done = run_python(SCENARIO, order, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.startswith("OK"), done.stdout
