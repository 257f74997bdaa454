"""Write the small Sphinx inventories of PyTorch and Triton names these docs cite.

The docs build offline (CI reaches no documentation site), so intersphinx
needs inventories in the repository.  Python's is the one Debian ships with
``python3.11-doc``.  For PyTorch and Triton this script writes inventories
holding only the public names the pages cite, each pointing at its page on
the project's site; run it after citing a new name:
``python docs/_inv/make_inventories.py``.
"""

import os
import zlib

TORCH = "https://docs.pytorch.org/docs/2.13/"
TRITON = "https://triton-lang.org/main/"

ENTRIES = {
    ("torch", "PyTorch", "2.13"): [
        ("torch.compile", "py:function", "generated/torch.compile.html#torch.compile"),
        ("torch.Tensor", "py:class", "tensors.html#torch.Tensor"),
        ("torch.device", "py:class", "tensor_attributes.html#torch.device"),
        ("torch.dtype", "py:class", "tensor_attributes.html#torch.dtype"),
        ("torch.nn.Module", "py:class", "generated/torch.nn.Module.html#torch.nn.Module"),
        ("torch.fx.GraphModule", "py:class", "fx.html#torch.fx.GraphModule"),
        ("torch.testing.assert_close", "py:function", "testing.html#torch.testing.assert_close"),
        ("torch.cuda.is_available", "py:function", "generated/torch.cuda.is_available.html#torch.cuda.is_available"),
        ("torch.compiler.reset", "py:function", "generated/torch.compiler.reset.html#torch.compiler.reset"),
    ],
    ("triton", "Triton", "3.8"): [
        ("triton.jit", "py:function", "python-api/generated/triton.jit.html#triton.jit"),
        ("triton.testing.do_bench", "py:function", "python-api/generated/triton.testing.do_bench.html#triton.testing.do_bench"),
        ("triton.language", "py:module", "python-api/triton.language.html#module-triton.language"),
    ],
}


def write(path, project, version, rows):
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in rows)
    head = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    with open(path, "wb") as f:
        f.write(head.encode() + zlib.compress(body.encode()))


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    for (stem, project, version), rows in ENTRIES.items():
        write(os.path.join(here, f"{stem}.inv"), project, version, rows)
