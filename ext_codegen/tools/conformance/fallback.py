"""What Inductor's wrapper code says about a compiled op: the kernels it defines, the calls it
makes outside them, and, when no generated kernel ran, why (the ``why`` of a ``fallback`` row).
"""

from __future__ import annotations

import re

_KERNEL_DEFS = {
    "ext": re.compile(r"async_compile\.triton\("),
    "stock": re.compile(r"async_compile\.cpp(?:_pybinding)?\("),
}
_EXTERN = re.compile(r"\b(extern_kernels\.\w+|torch\.ops\.\w+\.\w+(?:\.\w+)?|aten\.\w+\.\w+)\(")


def code_facts(codes: list[str], backend: str) -> tuple[int, list[str]]:
    """(number of kernels defined, external calls) in Inductor's wrapper code."""
    kernels, externs = 0, []
    for code in codes:
        for line in code.splitlines():
            s = line.strip()
            if s.startswith("#") or s.startswith("import ") or s.startswith("from "):
                continue
            kernels += len(_KERNEL_DEFS[backend].findall(s))
            for m in _EXTERN.finditer(s):
                name = m.group(1).removeprefix("torch.ops.")
                if name.startswith("inductor.") or name.startswith("aten.") and name.endswith("._alloc_from_pool"):
                    continue
                if name not in externs:
                    externs.append(name)
    return kernels, externs


#: Ops whose lowering Inductor uses only when the device's code generator
#: advertises a feature (``BaseScheduling.get_backend_features``).
_FEATURE_OF_OP = {
    **dict.fromkeys(("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"), "SCAN"),
    **dict.fromkeys(("sort", "argsort"), "SORT"),
    **dict.fromkeys(("bucketize", "searchsorted"), "BUCKETIZE"),
    "masked_scatter": "MASKED_SCATTER_WITH_INDEX",
}


def _backend_features(device: str):
    from torch._inductor.codegen.common import get_backend_features

    return get_backend_features(device)


def explain_extern(name: str, backend: str) -> str:
    """Why Inductor called ``name`` (``aten.polygamma.default``, ``extern_kernels.mm``) instead of generating code."""
    import torch

    if name.startswith("extern_kernels."):
        return f"{name}: library call (Inductor does not generate this kernel)"
    try:
        from torch._inductor import lowering
        from torch._inductor.codegen.common import pointwise_overrides_data
    except ImportError:  # another torch release: say less rather than fail
        lowering, pointwise_overrides_data = None, {}

    parts = name.split(".")
    packet = getattr(getattr(torch.ops, parts[0], None), parts[1], None) if len(parts) >= 2 else None
    overload = getattr(packet, parts[2] if len(parts) > 2 else "default", None) if packet is not None else None
    short = ".".join(parts[:2])
    if backend == "ext" and parts[1] in {d.name for d in pointwise_overrides_data.values() if d.triton is None}:
        return f"{short}: Inductor lowers it for C++ only, not for Triton: ATen runs"
    feature = _FEATURE_OF_OP.get(parts[1])
    if feature and feature not in {f.name for f in _backend_features("cpu")}:
        return f"{short}: Inductor lowers it only where the backend has {feature} (Triton has, C++ has not): ATen runs"
    if overload is not None and overload in getattr(lowering, "fallbacks", ()):
        return f"{short}: no Inductor lowering, ATen runs"
    if overload is not None and overload in getattr(lowering, "lowerings", {}):
        return f"{short}: Inductor's lowering chose the ATen kernel for these inputs"
    return f"{short}: ATen runs"


def fallback_reason(codes, externs, kernels, launches, breaks, backend) -> str:
    """The ``why`` of a row where every sample matched but no generated kernel ran."""
    if not codes:
        why = "Dynamo compiled no graph: the op ran eagerly"
        return why + (f" (graph break: {breaks[0].strip().splitlines()[0][:150]})" if breaks else "")
    if externs:
        return "; ".join(explain_extern(x, backend) for x in externs[:3]) + (" ..." if len(externs) > 3 else "")
    if kernels and not launches:
        return "kernels generated but not launched (empty tensors)"
    return "no computation: the result is a view or metadata of the inputs, or a constant"
