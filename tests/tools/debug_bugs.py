"""Bugs planted in Inductor's lowerings, for the debugging tools to find (tests/tools/test_debugging.py).

Each is a context manager that swaps one entry of Inductor's lowering table
for the length of a block — as a backend author's broken lowering would —
with Dynamo reset and Inductor's caches off around it, so the kernels are
really written with the bug and never served from a cache afterwards.
"""

from __future__ import annotations

import contextlib
from unittest import mock

import torch
from torch._inductor import config, ir, lowering
from torch._inductor.virtualized import ops

aten = torch.ops.aten


def _shifted_neg(x):
    """``-x[i + 1]`` where ``-x[i]`` is meant: the last element reads one past the end."""
    load = x.make_loader()
    return ir.Pointwise.create(
        device=x.get_device(), dtype=x.get_dtype(), ranges=list(x.get_size()),
        inner_fn=lambda index: ops.neg(load([index[0] + 1, *index[1:]])),
    )


@contextlib.contextmanager
def planted(op, lowering_fn):
    torch._dynamo.reset()
    with config.patch(fx_graph_cache=False), torch._functorch.config.patch(enable_autograd_cache=False), mock.patch.dict(lowering.lowerings, {op: lowering_fn}):
        yield
    torch._dynamo.reset()


def off_by_one_neg():
    """``torch.neg`` lowered with an index off by one."""
    return planted(aten.neg.default, _shifted_neg)


def sin_as_cos():
    """``torch.sin`` lowered as ``cos``: a wrong libdevice mapping, values wrong, addresses fine."""
    return planted(aten.sin.default, lowering.lowerings[aten.cos.default])
