"""A standalone reproducer of one kernel: its generated source, its inputs, a script that runs it alone.

The folder :func:`write_reproducer` fills runs without the model, Dynamo or
Inductor's compiler: ``python repro.py`` loads the kernel's module, launches
it through this package's interpreter launcher on the saved inputs (moved to
the cpu: the interpreter runs on host memory either way) and prints the
largest error of the written argument against the saved float64 eager value.
"""

from __future__ import annotations

import pathlib
import shutil

import torch

from ...compat import triton_versions

_SCRIPT = '''"""Reproducer of kernel {name}: run it alone on its saved inputs (python repro.py)."""
import importlib.util
import pathlib

import torch

from ext_codegen.triton_backend.launch import launch

here = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("kernel", here / "kernel.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
kernel = getattr(module, "{name}")
kernel = getattr(kernel, "fn", kernel)  # Inductor's autotuner wraps the JITFunction
saved = torch.load(here / "inputs.pt")
launch(kernel, saved["grid"], saved["args"])
error = (saved["args"]["{param}"].double() - saved["expected"].double()).abs().max().item()
print(f"{name}: {param} differs from float64 eager by up to {{error:.3g}}")
'''


def write_reproducer(folder, kernel, args: dict, grid, param: str, expected) -> str:
    """Write ``kernel.py``, ``inputs.pt`` and ``repro.py`` into ``folder``; return the script's path."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(triton_versions.kernel_file_name(kernel), folder / "kernel.py")
    cpu_args = {k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in args.items()}
    torch.save({"args": cpu_args, "grid": tuple(grid), "expected": expected.detach().cpu()}, folder / "inputs.pt")
    script = folder / "repro.py"
    script.write_text(_SCRIPT.format(name=kernel.__name__, param=param))
    return str(script)
