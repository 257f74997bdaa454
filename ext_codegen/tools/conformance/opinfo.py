"""PyTorch's OpInfo database as the tool reads it: selecting ops, their names, seeded samples.

``op_db`` is ``torch.testing._internal.common_methods_invocations.op_db``;
an op's index in it is how the parent names an op to a worker.
"""

from __future__ import annotations

import fnmatch

from .compare import is_tensor, leaves


def op_name(op) -> str:
    """The name the reports use: ``name`` or ``name.variant_test_name`` (``polygamma.polygamma_n_0``)."""
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


def select_ops(patterns: list[str] | None):
    """``[(index, name, op)]`` of the ``op_db`` entries that ``patterns`` select.

    A pattern selects the op of that exact name (``sin``, ``polygamma.polygamma_n_0``),
    or the ops a glob matches (``nn.functional.*``, ``*pool*``); a pattern that
    selects nothing that way selects the names that contain it (``pool``).
    """
    from torch.testing._internal.common_methods_invocations import op_db

    names = [op_name(op) for op in op_db]
    wanted: set[str] = set()
    for pattern in patterns or []:
        hits = {n for n in names if fnmatch.fnmatchcase(n, pattern)}
        wanted |= hits or {n for n in names if pattern in n}
    return [(i, n, op) for i, (n, op) in enumerate(zip(names, op_db)) if not patterns or n in wanted]


def op_supports_float64(op) -> bool:
    import torch

    return torch.float64 in op.supported_dtypes("cpu")


def seed(n: int) -> None:
    """Seed every generator an op or its samples may draw from."""
    import random

    import numpy as np
    import torch

    torch.manual_seed(n)
    np.random.seed(n)
    random.seed(n)


def samples(op, dtype, limit):
    """The op's first ``limit`` samples (all when ``None``), generated from a fixed seed."""
    import itertools

    seed(0)
    gen = op.sample_inputs("cpu", dtype, requires_grad=False)
    return list(gen if limit is None else itertools.islice(gen, limit))


def placements(op, dtype, limit, device) -> list[list] | None:
    """For each of the first samples, the device of each of its tensors when OpInfo makes them for ``device``.

    Most go to ``device``; OpInfo keeps on cpu those the op wants there (the
    index tensor of ``tensor_split``, as on cuda), and so must the copies the
    tool makes of the cpu samples.  ``None`` if the samples cannot be made
    on ``device``.
    """
    import itertools

    import torch

    seed(0)
    try:
        gen = op.sample_inputs(device, dtype, requires_grad=False)
        made = list(gen if limit is None else itertools.islice(gen, limit))
    except Exception:  # noqa: BLE001 - then every tensor goes to the device
        return None
    found = []
    for sample in made:
        where: list = []
        sample.transform(lambda t: where.append(t.device) if isinstance(t, torch.Tensor) else None)
        found.append(where)
    return found


def call(fn, sample):
    return fn(sample.input, *sample.args, **sample.kwargs)


def state(sample):
    """What a sample's call leaves behind besides its result: the (possibly mutated) inputs."""
    return [t for t in leaves((sample.input, sample.args, sample.kwargs)) if is_tensor(t)]


def to_float64(sample, dtype):
    """The sample with its ``dtype`` tensors in float64: the reference the float64 rule compares with."""
    import torch

    def up(t):
        return t.to(torch.float64) if isinstance(t, torch.Tensor) and t.dtype == dtype else t

    return sample.transform(up)
