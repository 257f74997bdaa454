"""Whether a compiled result matches eager's: tolerances, the float64 rules, unstable sorts.

The rule itself is described in the package docstring
(:mod:`ext_codegen.tools.conformance`, *Comparison*); :func:`compare` applies
it and says where the first difference is.  :func:`exact_same` is the
stricter question the runner asks of eager alone (does it repeat itself?).
"""

from __future__ import annotations


def leaves(x):
    """Flatten an op's result (tensors, numbers, tuples, return_types) into leaves."""
    import torch.utils._pytree as pytree

    return pytree.tree_leaves(x)


def is_tensor(x) -> bool:
    import torch

    return isinstance(x, torch.Tensor)


def _default_tolerance(dtype):
    import torch

    return {
        torch.float16: (1e-5, 1e-3),
        torch.bfloat16: (1e-5, 1.6e-2),
        torch.float32: (1e-5, 1.3e-6),
        torch.float64: (1e-7, 1e-7),
    }.get(dtype, (0.0, 0.0))


def compare(out, ref, ref64=None, values=True, used=None) -> str | None:
    """``None`` when ``out`` matches eager's ``ref``, else a short description of the first difference.

    ``ref64`` is the same result computed in float64 (or ``None``); see the
    package docstring for the rule.  ``values=False`` compares shapes and dtypes only.
    ``used``, a set, receives ``"tensor_wide"`` when that rule decided a match.
    """
    import torch

    lo, le = leaves(out), leaves(ref)
    l64 = leaves(ref64) if ref64 is not None else None
    if len(lo) != len(le):
        return f"{len(lo)} results, eager has {len(le)}"
    if l64 is not None and len(l64) != len(le):
        l64 = None
    for k, (o, e) in enumerate(zip(lo, le)):
        where = f"result {k}" if len(lo) > 1 else "result"
        if isinstance(e, torch.Tensor):
            if not isinstance(o, torch.Tensor):
                return f"{where}: {type(o).__name__}, eager gives a tensor"
            if o.shape != e.shape or o.dtype != e.dtype:
                return f"{where}: {o.dtype}{list(o.shape)}, eager {e.dtype}{list(e.shape)}"
            if not values:
                continue
            r = l64[k] if l64 is not None and isinstance(l64[k], torch.Tensor) else None
            bad = _tensor_difference(o, e, r, used)
            if bad:
                return f"{where}: {bad}"
        elif isinstance(e, (int, float)) and not isinstance(e, bool):
            if not isinstance(o, (int, float)) or isinstance(o, bool):
                return f"{where}: {o!r}, eager {e!r}"
            if not values:
                continue
            if isinstance(o, int) and isinstance(e, int):
                if o != e:
                    return f"{where}: {o!r}, eager {e!r}"
            elif not torch.isclose(torch.tensor(float(o), dtype=torch.float64),
                                   torch.tensor(float(e), dtype=torch.float64), rtol=1.3e-6, atol=1e-5, equal_nan=True):
                return f"{where}: {o!r}, eager {e!r}"
        elif values and o != e:
            return f"{where}: {o!r}, eager {e!r}"
    return None


def _tensor_difference(o, e, r, used=None) -> str | None:
    import torch

    if o.layout != torch.strided or e.layout != torch.strided:
        o, e = o.to_dense(), e.to_dense()
    if not o.dtype.is_floating_point and not o.dtype.is_complex:
        if torch.equal(o, e):
            return None
        diff = (o != e).nonzero()
        first = tuple(diff[0].tolist())
        return f"{int(diff.shape[0])} of {o.numel()} elements differ, e.g. at {first}: {o[first].item()} vs eager {e[first].item()}"
    atol, rtol = _default_tolerance(o.dtype)
    ok = torch.isclose(o, e, rtol=rtol, atol=atol, equal_nan=True)
    if bool(ok.all()):
        return None
    if r is not None and r.shape == o.shape:
        # Elements eager did not reproduce: the compiled value may be as close
        # to the float64 result as eager's, up to a factor 2 and the tolerance.
        od, ed, rd = o.double(), e.double(), r.double()
        eager_err, compiled_err, slack = (ed - rd).abs(), (od - rd).abs(), atol + rtol * rd.abs()
        ok |= compiled_err <= 2 * eager_err + slack
        ok |= torch.isclose(od, rd, rtol=rtol, atol=atol, equal_nan=True)
        if bool(ok.all()):
            return None
        if o.dtype in (torch.float32, torch.float64):
            # Summation order: where eager is nearly exact by luck, its error
            # elsewhere in the tensor is the scale of the rounding.
            worst = eager_err.nan_to_num(nan=0.0, posinf=0.0).amax()
            wide = ok | (compiled_err <= 2 * worst + slack)
            if bool(wide.all()):
                if used is not None:
                    used.add("tensor_wide")
                return None
    bad = (~ok).nonzero()
    first = tuple(bad[0].tolist())
    return (
        f"{int(bad.shape[0])} of {o.numel()} elements differ, e.g. at {first}: "
        f"{o[first].item():.6g} vs eager {e[first].item():.6g}"
        + (f" (float64: {r[first].item():.6g})" if r is not None and r.shape == o.shape else "")
    )


# ---------------------------------------------------------------- does eager repeat itself


def exact_same(a, b) -> bool:
    """Whether two results are the same: bit for bit where they hold floats, by :func:`compare` otherwise."""
    return compare(a, b) is None if not _has_float(a) else _bitwise_same(a, b)


def _has_float(x) -> bool:
    return any(is_tensor(t) and t.dtype.is_floating_point for t in leaves(x))


def _bitwise_same(a, b) -> bool:
    import torch

    la, lb = leaves(a), leaves(b)
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if is_tensor(x) != is_tensor(y):
            return False
        if is_tensor(x):
            if x.shape != y.shape or x.dtype != y.dtype:
                return False
            if x.layout != torch.strided:
                x, y = x.to_dense(), y.to_dense()
            if not torch.equal(x.nan_to_num(), y.nan_to_num()) or not torch.equal(x.isnan(), y.isnan()):
                return False
        elif x != y and not (x != x and y != y):
            return False
    return True


# ---------------------------------------------------------------- sorts without stability


def _sort_options(sample) -> tuple[int, bool]:
    """``(dim, stable)`` of a ``sort``/``argsort`` sample (``sort(x, dim, descending, stable=...)``)."""
    args, kwargs = sample.args, sample.kwargs
    dim = kwargs.get("dim", args[0] if args else -1)
    stable = kwargs.get("stable", args[2] if len(args) > 2 else False)
    return dim, bool(stable)


def unstable_sort(name: str, sample) -> bool:
    """Whether ``sample`` of op ``name`` is a sort that leaves the order of equal keys free."""
    return name in ("sort", "argsort") and sample.input.dim() > 0 and not _sort_options(sample)[1]


def compare_unstable_sort(name: str, sample, out, ref) -> str | None:
    """Compare a sort that did not ask for stability: the order of equal keys is unspecified.

    The sorted values must equal eager's, and the indices must be, along the
    sorted dimension, a permutation that gathers exactly those values from
    the input; which of several equal keys comes first is free.
    """
    import torch

    dim = _sort_options(sample)[0]
    x = sample.input
    out_idx, ref_idx = (out[1], ref[1]) if name == "sort" else (out, ref)
    if name == "sort":
        bad = compare(out[0], ref[0])
        if bad:
            return f"values: {bad}"
    if not isinstance(out_idx, torch.Tensor) or out_idx.shape != ref_idx.shape or out_idx.dtype != ref_idx.dtype:
        return compare(out_idx, ref_idx)
    n = x.shape[dim]
    if out_idx.numel() and (out_idx.min() < 0 or out_idx.max() >= n):
        return "indices out of range"
    if not torch.equal(out_idx.sort(dim).values, ref_idx.sort(dim).values):
        return "indices: not a permutation along the sorted dimension"
    if compare(x.gather(dim, out_idx), x.gather(dim, ref_idx)):  # NaN equals NaN here
        return "indices: they do not gather the sorted values"
    return None
