"""Every hook of the installed torch's BaseScheduling is forwarded to TritonScheduling, which implements it."""

import ast
import inspect
import textwrap

import pytest
import torch
from torch._inductor.codegen.triton import TritonScheduling
from torch._inductor.scheduler import BaseScheduling

from ext_codegen import ExtensionScheduling
from tests.helpers import SEED, seeded

NOT_HOOKS = {"__init__"}


def base_hooks():
    return sorted(
        name
        for name, value in vars(BaseScheduling).items()
        if callable(value) and not name.startswith("__") and name not in NOT_HOOKS
    )


def test_every_base_hook_is_defined_by_the_extension():
    missing = [name for name in base_hooks() if name not in vars(ExtensionScheduling)]
    assert not missing, (
        f"torch {torch.__version__} added BaseScheduling hooks that ExtensionScheduling "
        f"does not forward: {missing}"
    )


def raises_not_implemented(function) -> bool:
    """Is ``function``'s body, its docstring aside, only ``raise NotImplementedError``?

    That is how ``BaseScheduling`` declares a hook each backend must implement.
    The source is read from the code object, so a wrapper is read as itself,
    not as the function it wraps.
    """
    code = getattr(function, "__func__", function).__code__  # a classmethod's function, bound to its class
    body = ast.parse(textwrap.dedent(inspect.getsource(code))).body[0].body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ast.Raise) and "NotImplementedError" in ast.unparse(body[0])


@pytest.mark.parametrize("name", base_hooks())
def test_hook_runs_the_owned_triton_schedulings_implementation(name):
    """Calling a hook on an ExtensionScheduling runs that hook of the TritonScheduling it owns.

    The delegate is the one ``ExtensionScheduling.__init__`` built; a spy on
    that instance (its class is untouched) stands for its method and records
    the call.  The hook must reach it once, with the caller's arguments, and
    return its result; and TritonScheduling's method must implement the hook
    (not be a stub that raises NotImplementedError).  So this fails for a hook
    left unforwarded (BaseScheduling's stub raises, or its default answers
    without asking Triton), forwarded to another method, or forwarded to a
    method Triton does not implement.
    """
    ext = ExtensionScheduling(None)
    delegate = ext._triton_scheduling
    assert type(delegate) is TritonScheduling
    assert not raises_not_implemented(getattr(TritonScheduling, name)), (
        f"TritonScheduling.{name} is a stub that raises NotImplementedError")

    calls = []
    result = ("result of", name)  # a tuple, so that get_backend_features can filter it and keep it

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return result

    setattr(delegate, name, spy)
    params = list(inspect.signature(vars(BaseScheduling)[name]).parameters.values())[1:]
    args = tuple(object() for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)
    assert getattr(ext, name)(*args) == result
    assert calls == [(args, {})], f"ExtensionScheduling.{name} did not pass the call to its TritonScheduling"


def test_fusion_is_decided_not_assumed(ext_cpu, gen):
    """A reduction and an unrelated-shape pointwise op are not fused (the fixture said True)."""
    from torch._inductor.utils import run_and_get_code

    a, b = torch.randn(64, 64, generator=gen), torch.randn(1000, generator=gen)
    torch._dynamo.reset()
    (s, p), (code,) = run_and_get_code(torch.compile(lambda a, b: (a.sum(1), b.sin())), a, b)
    assert code.count("@triton.jit") == 2
    torch.testing.assert_close(s, a.sum(1))
    torch.testing.assert_close(p, b.sin())


def test_foreach_ops_and_a_foreach_optimizer_step_compile_and_match(gen):
    """FOREACH is not advertised: the scheduler gives foreach nodes only to a SIMDScheduling."""
    import ext_codegen
    from torch._inductor.codegen.common import BackendFeature, get_backend_features

    def adam_steps(compiled):
        torch.manual_seed(SEED)
        model = torch.nn.Linear(8, 4).double()
        opt = torch.optim.Adam(model.parameters(), lr=0.1, foreach=True)
        step = torch.compile(opt.step) if compiled else opt.step
        x = torch.randn(16, 8, generator=seeded(), dtype=torch.float64)
        for _ in range(3):
            opt.zero_grad()
            model(x).pow(2).sum().backward()
            step()
        return [p.detach() for p in model.parameters()]

    eager = adam_steps(False)
    torch._dynamo.reset()
    stock = adam_steps(True)
    with ext_codegen.registered("cpu"):
        assert BackendFeature.FOREACH not in get_backend_features("cpu")
        assert BackendFeature.SCAN in get_backend_features("cpu")
        tensors = [torch.randn(n, generator=gen, dtype=torch.float64) for n in (10, 33, 7)]
        out = torch.compile(lambda ts: torch._foreach_mul(torch._foreach_add(ts, 1.5), 2.0))(tensors)
        for o, t in zip(out, tensors):
            torch.testing.assert_close(o, (t + 1.5) * 2.0)
        ext = adam_steps(True)
    for e, s_, x in zip(eager, stock, ext):
        # Compiled Adam departs from eager by ~2e-6 after three steps with stock
        # Inductor too (its step bookkeeping differs); ours must match stock's.
        torch.testing.assert_close(x, s_, atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(x, e, atol=1e-5, rtol=1e-4)
