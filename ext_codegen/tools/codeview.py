"""Pick the parts of Inductor's generated code a reader wants to see.

Inductor returns one Python *wrapper* module per compiled graph (get it with
``torch._inductor.utils.run_and_get_code``).  Each Triton kernel sits in it as
source text handed to ``async_compile.triton(...)``, and the wrapper's
``call`` launches them with ``<kernel>.run(...)``.  These helpers cut those
pieces out so the docs and the command line can show them.

>>> code = "k = async_compile.triton('k', '''\\n@triton.jit\\ndef k(x):\\n    pass\\n''')\\nk.run(buf0, 8)"
>>> kernels(code)
['@triton.jit\\ndef k(x):\\n    pass\\n']
>>> kernel_names(code)
['k']
>>> launches(code)
['k.run(buf0, 8)']
>>> streams("raw_streamNone = get_raw_stream(None)\\nk.run(buf0, 8, stream=raw_streamNone)")
['raw_streamNone = get_raw_stream(None)']
"""

from __future__ import annotations

import re

__all__ = ["kernels", "kernel_names", "launches", "streams"]


def kernels(code: str) -> list[str]:
    """The source of each ``@triton.jit`` kernel in ``code``, decorator to end, in order."""
    return [m.group(0) for m in re.finditer(r"@triton\.jit\n.*?(?=''')", code, re.S)]


def kernel_names(code: str) -> list[str]:
    """The names of the Triton kernels that ``code`` compiles, in order.

    These are the names handed to ``async_compile.triton``; a ``@triton.jit``
    helper that Inductor writes into a kernel's source (the combine function
    of a scan, ``_triton_helper_fn_add0``) is part of that kernel, not a kernel.
    """
    return re.findall(r"async_compile\.triton\(\s*'(\w+)'", code)


def launches(code: str) -> list[str]:
    """The wrapper lines that launch a kernel (``<name>.run(...)``), stripped."""
    return [line.strip() for line in code.splitlines() if re.search(r"\w\.run\(", line)]


def streams(code: str) -> list[str]:
    """The wrapper lines that fetch the stream a launch passes as ``stream=``, stripped, each once.

    Inductor names the variable after the device index it asks about:
    ``raw_stream0 = get_raw_stream(0)`` for device 0, and
    ``raw_streamNone = get_raw_stream(None)`` on cpu, whose tensors have no
    index (``stream0``, ``streamNone`` before torch 2.13).
    """
    found = [line.strip() for line in code.splitlines() if re.match(r"\s*\w+ = get_raw_stream\(", line)]
    return list(dict.fromkeys(found))
