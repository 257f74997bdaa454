"""torch.compile with the native path and its check mode: models and functions on cpu and extdev, against eager.

Each runs in a fresh interpreter with ``EXT_CODEGEN_NATIVE=1`` and
``EXT_CODEGEN_NATIVE_CHECK=1`` set before anything is compiled (Inductor
keeps the kernels it compiled in memory, keyed by their source, so kernels
compiled earlier in this process with the switch off would be reused).  The
check mode runs every native launch in the interpreter too and raises on a
mismatch; the results are compared with eager in float64; and the child
reports how many launches ran natively and which kernels fell back.
"""

from __future__ import annotations

import json

from tests.helpers import run_python, skip_on_gpu_host

CHILD = """
import json, sys, torch
from tests.helpers import compile_and_check, seeded, backend_registered
from ext_codegen.triton_backend.native import route

device = sys.argv[1]
gen = seeded()
x = torch.randn(64, 300, generator=gen, dtype=torch.float64)
w, b = torch.randn(300, generator=gen, dtype=torch.float64), torch.randn(300, generator=gen, dtype=torch.float64)
idx = torch.randint(0, 64, (120,), generator=gen)
src = torch.randn(120, 300, generator=gen, dtype=torch.float64)
cases = [
    (lambda x: (torch.sin(x) * 2 + torch.tanh(x - 1)).relu().exp2(), (x,)),
    (lambda x: torch.softmax(x, -1), (x,)),
    (lambda x, w, b: torch.nn.functional.layer_norm(x, (300,), w, b), (x, w, b)),
]
if device == "cpu":
    torch.manual_seed(1234)
    mlp = torch.nn.Sequential(torch.nn.Linear(300, 32), torch.nn.GELU(), torch.nn.Linear(32, 10)).double()
    cases += [
        (lambda x: (x.cumsum(1), x.argmax(1), x.amin(0)), (x,)),
        (lambda x, i, s: x.index_add(0, i, s), (x, idx, src)),
        (lambda x: torch.log_softmax(mlp(x), -1), (x,)),
    ]
with backend_registered(device):
    for fn, args in cases:
        compile_and_check(fn, *args, device=None if device == "cpu" else device, atol=1e-7, rtol=1e-7)
print(json.dumps({"native": route.native_launches, "fallbacks": dict(route.fallbacks)}))
"""


def run(device: str) -> dict:
    proc = run_python(CHILD, device, timeout=300, EXT_CODEGEN_NATIVE="1", EXT_CODEGEN_NATIVE_CHECK="1")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_models_on_cpu_natively_checked():
    report = run("cpu")
    assert report["native"] >= 6, report
    assert not report["fallbacks"], report


@skip_on_gpu_host
def test_functions_on_extdev_natively_checked():
    report = run("extdev")
    assert report["native"] >= 3, report
    assert not report["fallbacks"], report
