"""The assertions of PyTorch's ``test_triton_extension_backend.py``, plus the result.

Upstream registers its fixture, compiles ``torch.sin(x) + x.min()`` and looks
at the generated code, with Triton's backend hash mocked so nothing runs.
Here nothing is mocked: the kernel runs and its result must equal eager's.
"""

import torch
from torch._inductor.codegen.common import get_scheduling_for_device, get_wrapper_codegen_for_device
from torch._dynamo.device_interface import get_interface_for_device

import ext_codegen
from tests.helpers import compile_and_check


def test_registered_classes(ext_cpu):
    assert get_scheduling_for_device("cpu") is ext_codegen.ExtensionScheduling
    assert get_wrapper_codegen_for_device("cpu") is ext_codegen.ExtensionWrapperCodegen
    assert get_interface_for_device("cpu") is ext_codegen.DeviceInterface


def test_sin_plus_min_generates_runs_and_matches(ext_cpu, gen):
    x = torch.randn(333, generator=gen)
    out, code = compile_and_check(lambda x: torch.sin(x) + x.min(), x)
    for fragment in ("import triton", "@triton.jit", "tl_math.sin", "device_str='cpu'"):
        assert fragment in code, fragment
