"""Inductor's scans (``cumsum``, ``cummax``, ``logcumsumexp``, ...) over whole blocks.

Inductor lowers a scan to ``tl.associative_scan(values, axis, combine_fn)``
with a small generated ``@triton.jit`` combine function
(``_triton_helper_fn_add0``: ``return arg0_0 + arg1_0``).  Triton's
interpreter computes ``tl.cumsum`` with numpy, but any other combine
function, Inductor's included, runs element by element: one Python call of
the combine function per element, each a handful of interpreted ``tl``
operations (2.5 s for a 64×512 ``cumsum``, 41 s for ``logcumsumexp``).

:func:`associative_scan` reads the combine function's body once (its ``ast``) and
picks one of three ways to compute it:

``accumulate``
    The body is one ``+`` or one ``*`` of its two arguments: numpy's
    ``cumsum``/``cumprod`` in the block's dtype.  That is the same left fold
    in the same order as Triton's own path, so the result is identical.
``tree``
    The body only selects (comparisons, ``&``, ``|``, ``~``, ``tl.where``,
    ``triton_helpers.maximum``/``minimum``): ``cummax``, ``cummin`` and their
    index-carrying forms.  The scan runs as log2(n) rounds of the combine
    function over whole blocks (each position combined with the one ``2^k``
    before it).  A selection has no rounding, and Triton's contract asks
    for an associative combine function, so the result is the fold's, bit
    for bit (NaNs and ties included: the tests compare with Triton's path).
    Inductor's ``log_add_exp`` body (``logcumsumexp``) is also scanned this
    way; its additions then round in a tree order, as a GPU's scan does,
    instead of the fold's.
``None``
    Anything else takes Triton's own path, unchanged.

The rounds of ``tree`` call the combine function's numpy translation
(:mod:`.combine`) where there is one, and the combine function itself
otherwise; both perform the same operations on the same dtypes.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np
import triton.language as tl
from triton.runtime import interpreter as interp

from . import combine
from .dtypes import to_block

# Names a selecting body may call; everything it computes is a choice among its inputs.
_SELECTING_CALLS = {"where", "maximum", "minimum", "to"}
# The operations of Inductor's log_add_exp helper (torch/_inductor/lowering.py, logcumsumexp).
_LOG_ADD_EXP_CALLS = _SELECTING_CALLS | {"isinf", "exp", "log1p"}


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _body(fn):
    """The combine function's ``def`` as an ``ast`` node, or ``None`` if its source is not readable."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    return defs[0] if len(defs) == 1 else None


def _is_accumulate(node: ast.FunctionDef) -> type[ast.operator] | None:
    """``Add``/``Mult`` if the body is ``t = a <op> b; return t`` over the two arguments in order."""
    params = [a.arg for a in node.args.args]
    stmts = node.body
    if len(params) != 2 or len(stmts) != 2:
        return None
    assign, ret = stmts
    if not (isinstance(assign, ast.Assign) and isinstance(ret, ast.Return) and len(assign.targets) == 1):
        return None
    value, target = assign.value, assign.targets[0]
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Mult))):
        return None
    operands = [value.left, value.right]
    if not all(isinstance(o, ast.Name) for o in operands) or [o.id for o in operands] != params:
        return None
    if not (isinstance(target, ast.Name) and isinstance(ret.value, ast.Name) and ret.value.id == target.id):
        return None
    return type(value.op)


def _only(node: ast.FunctionDef, calls: set[str], binops: tuple[type, ...]) -> bool:
    """Whether every operation in the body is a call in ``calls``, a comparison or a binop in ``binops``."""
    for stmt in node.body:
        if not isinstance(stmt, (ast.Assign, ast.Return)):
            return False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _call_name(sub) not in calls:
            return False
        if isinstance(sub, ast.BinOp) and not isinstance(sub.op, binops):
            return False
        if isinstance(sub, ast.UnaryOp) and not isinstance(sub.op, (ast.Invert, ast.Not)):
            return False
        if isinstance(sub, (ast.Lambda, ast.IfExp, ast.Subscript, ast.Constant)):
            return False
    return True


_LOGIC = (ast.BitAnd, ast.BitOr, ast.BitXor)


def classify(combine_fn) -> str | None:
    """``"cumsum"``, ``"cumprod"``, ``"tree"`` or ``None`` (Triton's own path) for a combine function."""
    return _classify(_body(getattr(combine_fn, "fn", combine_fn)))


def _classify(node) -> str | None:
    if node is None:
        return None
    op = _is_accumulate(node)
    if op is ast.Add:
        return "cumsum"
    if op is ast.Mult:
        return "cumprod"
    if _only(node, _SELECTING_CALLS, _LOGIC):
        return "tree"
    if _only(node, _LOG_ADD_EXP_CALLS, _LOGIC + (ast.Add, ast.Sub)) and _is_log_add_exp(node):
        return "tree"
    return None


def _is_log_add_exp(node: ast.FunctionDef) -> bool:
    """Inductor's log_add_exp: ``max + log1p(exp(min - max))``, guarded by ``isinf``."""
    names = {_call_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)}
    return {"maximum", "minimum", "exp", "log1p", "isinf", "where"} <= names


def _rounds(arrays: list[np.ndarray], axis: int, combine) -> list[np.ndarray]:
    """:func:`_tree` with the combine function translated to numpy (:mod:`.combine`): no ``tl`` call at all.

    numpy has no power-of-two rule, so each round combines only the
    positions that have a partner: ``[step:]`` with ``[:-step]``.
    """
    n = arrays[0].shape[axis]
    acc = [np.array(a, copy=True) for a in arrays]
    later = [slice(None)] * acc[0].ndim
    earlier = list(later)
    step = 1
    with np.errstate(all="ignore"):  # the interpreter's own arithmetic warns about nothing either
        while step < n:
            later[axis], earlier[axis] = slice(step, n), slice(0, n - step)
            out = combine(*(a[tuple(earlier)] for a in acc), *(a[tuple(later)] for a in acc))
            for a, o in zip(acc, out):
                a[tuple(later)] = o
            step *= 2
    return acc


def _tree(arrays: list[np.ndarray], dtypes, axis: int, combine) -> list[np.ndarray]:
    """Inclusive scan by doubling: after round ``k`` each position holds the combination of its last ``2^k`` inputs.

    Every round combines whole blocks (a block's shape must stay a power of
    two): position ``i`` with position ``i - step``, rolled into place; the
    first ``step`` positions, which have no partner, keep their value.
    """
    n = arrays[0].shape[axis]
    acc = [a.copy() for a in arrays]
    position = np.arange(n).reshape([n if d == axis else 1 for d in range(acc[0].ndim)])
    step = 1
    while step < n:
        earlier = [to_block(np.roll(a, step, axis=axis), t) for a, t in zip(acc, dtypes)]
        later = [to_block(a, t) for a, t in zip(acc, dtypes)]
        out = combine(*earlier, *later)
        out = out if isinstance(out, tuple) else (out,)
        keep = position < step
        acc = [np.where(keep, a, o.handle.data).astype(a.dtype, copy=False) for a, o in zip(acc, out)]
        step *= 2
    return acc


_KINDS: dict[int, tuple[object, str | None]] = {}

#: Set to ``False`` to send every scan down Triton's own path (the tests compare the two).
ENABLED = True
#: Set to ``False`` to call the combine function in every round instead of its numpy translation.
TRANSLATE = True

#: How many scans took each way, by kind (the tests and the benchmark read it).
stats = {"cumsum": 0, "cumprod": 0, "tree": 0, "translated": 0, "triton": 0}


def _entry(combine_fn):
    entry = _KINDS.get(id(combine_fn))
    if entry is None:
        node = _body(getattr(combine_fn, "fn", combine_fn))
        entry = _KINDS[id(combine_fn)] = (combine_fn, _classify(node), node, {})  # keeps the id alive
    return entry


def _kind(combine_fn) -> str | None:
    return _entry(combine_fn)[1] if ENABLED else None


def _numpy_combine(combine_fn, arrays: list[np.ndarray]):
    """The combine function translated to numpy for these dtypes, or ``None`` (cached per dtypes)."""
    _, kind, node, translated = _entry(combine_fn)
    dtypes = tuple(a.dtype for a in arrays)
    if dtypes not in translated:
        sample = [np.zeros(2, dtype=d) for d in dtypes]
        translated[dtypes] = combine.translate(node, sample) if kind == "tree" else None
    return translated[dtypes] if TRANSLATE else None


def needs_language(combine_fn, input=None) -> bool:
    """Whether scanning ``input`` with ``combine_fn`` calls it (Python over ``tl`` blocks) rather than numpy alone."""
    kind = _kind(combine_fn)
    if kind in ("cumsum", "cumprod"):
        return False
    if kind == "tree" and input is not None:
        tensors = input.values if isinstance(input, tl.core.tuple) else input if isinstance(input, tuple) else (input,)
        return _numpy_combine(combine_fn, [t.handle.data for t in tensors]) is None
    return True


def associative_scan(input, axis, combine_fn, reverse=False, **kwargs):
    """``tl.associative_scan`` that computes Inductor's combine functions over whole blocks.

    Any other combine function goes to the interpreter's own scan (what
    ``tl.associative_scan`` is inside a launch), called directly.
    """
    kind = _kind(combine_fn)
    if isinstance(input, tl.core.tuple):
        input = tuple(input.values)
    tensors = input if isinstance(input, tuple) else (input,)
    if kind is None or axis is None:
        stats["triton"] += 1
        return interp.ScanOps(axis, combine_fn, reverse).apply(input)
    stats[kind] += 1
    axis = int(axis) % len(tensors[0].shape)
    arrays = [t.handle.data for t in tensors]
    if reverse:
        arrays = [np.flip(a, axis) for a in arrays]
    if kind == "cumsum":
        results = [np.cumsum(arrays[0], axis=axis, dtype=arrays[0].dtype)]
    elif kind == "cumprod":
        results = [np.cumprod(arrays[0], axis=axis, dtype=arrays[0].dtype)]
    else:
        translated = _numpy_combine(combine_fn, arrays)
        if translated is not None:
            stats["translated"] += 1
            results = _rounds(arrays, axis, translated)
        else:
            results = _tree(arrays, [t.dtype for t in tensors], axis, combine_fn.fn)
    if reverse:
        results = [np.flip(r, axis) for r in results]
    out = tuple(to_block(r.astype(a.dtype, copy=False), t.dtype) for r, a, t in zip(results, arrays, tensors))
    return out if isinstance(input, tuple) else out[0]
