"""A scan's combine function as numpy: Inductor's straight-line bodies translated once.

:mod:`.scans` combines whole blocks in log2(n) rounds; calling the combine
function itself for every round would pay Triton's front end (tens of µs) for
each of its operations, ten or so per round.  Inductor's combine functions
are a few lines of ``tmpN = <expression>`` over the arguments and a
``return``, with a small vocabulary: arithmetic, comparisons, ``&``, ``|``,
``~``, ``tl.where``, ``triton_helpers.maximum``/``minimum`` and ``libdevice``
calls.  :func:`to_numpy` turns such a body into a Python function over numpy
arrays that performs the same operations on the same dtypes:

* ``triton_helpers.maximum(a, b)`` picks ``a`` where ``a > b`` or ``a`` is NaN,
  else ``b``, exactly as the helper's ``tl.where`` does (``minimum`` alike);
* ``libdevice.exp`` and the other ``libdevice`` calls run the PyTorch
  operation :mod:`.libdevice` runs for them, so the bits are the same;
* ``.to(tl.int1)`` of a boolean is the boolean itself.

Anything else (another call, a constant, a cast to another type, a body with
control flow) is not translated and the scan calls the combine function as
before.
"""

from __future__ import annotations

import ast

import numpy as np
import torch

from .libdevice import LIBDEVICE_TO_TORCH

_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.BitAnd: np.bitwise_and,
           ast.BitOr: np.bitwise_or, ast.BitXor: np.bitwise_xor}
_COMPARE = {ast.Gt: np.greater, ast.Lt: np.less, ast.GtE: np.greater_equal, ast.LtE: np.less_equal,
            ast.Eq: np.equal, ast.NotEq: np.not_equal}


def _maximum(a, b):
    pick = a > b
    if a.dtype.kind == "f":
        pick |= a != a
    return np.where(pick, a, b)


def _minimum(a, b):
    pick = a < b
    if a.dtype.kind == "f":
        pick |= a != a
    return np.where(pick, a, b)


def _libdevice(name):
    fn = LIBDEVICE_TO_TORCH.get(name)
    if fn is None:
        return None

    def call(*arrays):
        with torch.no_grad():
            out = fn(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays))
        if out.dtype == torch.int32 and name in ("isinf", "isnan", "isfinite", "signbit", "finitef"):
            return out.numpy() != 0  # only ever cast to int1 by Inductor's bodies
        return out.numpy()

    return call


class _Untranslatable(Exception):
    pass


def _callee(node: ast.Call):
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module, name = func.value.id, func.attr
        if module == "tl" and name == "where":
            return np.where
        if module == "triton_helpers" and name in ("maximum", "minimum"):
            return _maximum if name == "maximum" else _minimum
        if module == "libdevice":
            fn = _libdevice(name)
            if fn is not None:
                return fn
    raise _Untranslatable(ast.dump(node.func))


def _expression(node, env):
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise _Untranslatable(node.id)
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_expression(node.left, env), _expression(node.right, env))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        return _COMPARE[type(node.ops[0])](_expression(node.left, env), _expression(node.comparators[0], env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        value = _expression(node.operand, env)
        if value.dtype != np.bool_:
            raise _Untranslatable("~ of a non-boolean")
        return ~value
    if isinstance(node, ast.Call):
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "to" and len(node.args) == 1 and not node.keywords
                and isinstance(node.args[0], ast.Attribute) and node.args[0].attr == "int1"):
            value = _expression(func.value, env)
            if value.dtype != np.bool_:
                raise _Untranslatable(".to(int1) of a non-boolean")
            return value
        if node.keywords:
            raise _Untranslatable("keyword arguments")
        return _callee(node)(*(_expression(a, env) for a in node.args))
    raise _Untranslatable(type(node).__name__)


def to_numpy(node: ast.FunctionDef):
    """The body of ``node`` as a function of numpy arrays returning a tuple, or ``None``."""
    params = [a.arg for a in node.args.args]
    statements = node.body
    if not statements or not isinstance(statements[-1], ast.Return):
        return None
    for stmt in statements[:-1]:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return None

    def combine(*arrays):
        env = dict(zip(params, arrays))
        for stmt in statements[:-1]:
            env[stmt.targets[0].id] = _expression(stmt.value, env)
        result = statements[-1].value
        values = result.elts if isinstance(result, ast.Tuple) else [result]
        return tuple(np.asarray(_expression(v, env)) for v in values)

    return combine


def translate(node: ast.FunctionDef, sample: list[np.ndarray]):
    """:func:`to_numpy` of ``node``, kept only if it runs on ``sample`` and keeps every output's dtype."""
    combine = to_numpy(node)
    if combine is None:
        return None
    try:
        with np.errstate(all="ignore"):
            out = combine(*sample, *sample)
    except _Untranslatable:
        return None
    if len(out) != len(sample) or any(o.dtype != s.dtype or o.shape != s.shape for o, s in zip(out, sample)):
        return None
    return combine
