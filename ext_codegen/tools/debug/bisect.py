"""Find the wrong kernel: the first kernel, in launch order, whose output differs from eager in float64.

Inductor's accuracy minifier shrinks a *graph*; a backend author usually
needs the *kernel*.  :func:`find_wrong_kernel` compiles the function once
more with three observers, none of which changes what is compiled:

* Inductor's ``GraphLowering.save_output_code`` hook (the one
  ``run_and_get_code`` uses) keeps each graph's wrapper code and its buffers:
  ``buffer.origin_node`` is the FX node whose value a buffer holds, and
  ``buffer.get_origins()`` the ATen nodes Inductor fused into it;
* the inner compiler keeps each graph's inputs when it is called;
* a launcher instrument copies every buffer a kernel writes (its
  ``out_ptr``/``in_out_ptr`` arguments) right after the launch.

Then each graph runs eagerly in float64 (every node's value kept) and the
launches are walked in order: the first buffer that is not close to the
float64 value of its FX node is the finding — kernel, buffer, error, fused
ATen nodes and the user's source line, from the nodes' stack traces.
"""

from __future__ import annotations

import ast
import dataclasses
import re

import torch

from ...compat import triton_versions
from .instrument import installed, interpreted
from .reproducer import write_reproducer


@dataclasses.dataclass
class Finding:
    """The first kernel whose output is wrong."""

    kernel: str
    launch: int  # its place among the launches of the call, from 0
    buffer: str
    argument: str  # the kernel parameter the buffer was passed as
    node: str  # the FX node the buffer computes
    error: float  # largest absolute difference from the float64 eager value
    origins: list[str]  # the ATen nodes fused into the buffer: "name = target"
    source: str | None  # the line of the user's code they came from
    kernel_file: str
    reproducer: str | None = None

    def __str__(self) -> str:
        lines = [
            f"first wrong kernel: {self.kernel} (launch {self.launch})",
            f"  writes {self.buffer} (argument {self.argument}), the value of FX node {self.node}",
            f"  largest error against float64 eager: {self.error:.3g}",
            f"  fused ATen nodes: {', '.join(self.origins)}",
            f"  from: {self.source or 'no source line recorded'}",
            f"  kernel source: {self.kernel_file}",
        ]
        if self.reproducer:
            lines.append(f"  reproducer: {self.reproducer}")
        return "\n".join(lines)


@dataclasses.dataclass
class _Graph:
    code: str
    buffers: dict
    gm: torch.fx.GraphModule | None = None
    inputs: list | None = None


def _launch_lines(code: str) -> list[tuple[str, list]]:
    """``(kernel, [argument expression, ...])`` for every ``kernel.run(...)`` of a wrapper, in order."""
    calls = []
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run"
                and isinstance(node.func.value, ast.Name)):
            calls.append((node.lineno, node.func.value.id, node.args))
    return [(name, args) for _, name, args in sorted(calls, key=lambda c: c[0])]


def _buffer_name(expr) -> str | None:
    """``buf3`` for ``buf3`` or ``reinterpret_tensor(buf3, ...)``."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Call) and expr.args:
        return _buffer_name(expr.args[0])
    return None


def _user_line(nodes) -> str | None:
    """The last frame of the first stack trace among ``nodes``: where the user's code asked for them."""
    for node in nodes:
        trace = node.meta.get("stack_trace") or ""
        frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)\n\s*(.*)', trace)
        if frames:
            file, line, func, code = frames[-1]
            return f"{file}:{line} in {func}: {code.strip()}"
    return None


class _EagerValues(torch.fx.Interpreter):
    def __init__(self, gm) -> None:
        super().__init__(gm)
        self.values: dict[str, object] = {}

    def run_node(self, n):
        value = super().run_node(n)
        self.values[n.name] = value
        return value


def _float64(value):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().double()
    return value


def _close(got: torch.Tensor, want, rtol, atol):
    """``(ok, error)``: ``got`` against the float64 eager value ``want``."""
    if not isinstance(want, torch.Tensor):
        return True, 0.0
    got, want = got.double().cpu(), want.double().cpu()
    if got.shape != want.shape:
        if got.numel() != want.numel():
            return True, 0.0  # a buffer that is a view of the node's value: not compared
        got = got.reshape(want.shape)
    diff = (got - want).abs()
    error = float(diff[~torch.isnan(diff)].max()) if diff.numel() else 0.0
    return bool(torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)), error


def find_wrong_kernel(fn, *inputs, rtol: float = 1e-4, atol: float = 1e-5, reproducer=None) -> Finding | None:
    """The first kernel of ``torch.compile(fn)(*inputs)`` whose output differs from eager, or ``None``.

    Every buffer a kernel writes is compared with the float64 eager value of
    the FX node it computes (``rtol``, ``atol``).  ``reproducer``, a folder,
    receives the wrong kernel's source, its inputs and a script that runs it
    alone (:func:`.reproducer.write_reproducer`).
    """
    from torch._inductor import config
    from torch._inductor.compile_fx import compile_fx, compile_fx_inner
    from torch._inductor.graph import GraphLowering
    from torch._inductor.virtualized import V

    for value in inputs:
        if isinstance(value, torch.Tensor):
            interpreted(value.device)
    graphs: list[_Graph] = []
    launches: list[tuple[_Graph, object, dict, dict, tuple]] = []
    current: list[_Graph] = []

    def save_output_code(code: str) -> None:
        graphs.append(_Graph(code, dict(V.graph.name_to_buffer)))

    def inner(gm, example_inputs, **kwargs):
        compiled = compile_fx_inner(gm, example_inputs, **kwargs)
        graph = graphs[-1]
        graph.gm, real = gm, compiled.current_callable

        def call(args):
            graph.inputs = [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]
            current[:] = [graph]
            return real(args)

        compiled.current_callable = call
        return compiled

    def instrument(kernel, fn_, args, scope, builder):
        before = ({k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in args.items()}
                  if reproducer else {})

        def after():
            written = {k: v.detach().clone() for k, v in args.items()
                       if isinstance(v, torch.Tensor) and k.startswith(("out_ptr", "in_out_ptr"))}
            launches.append((current[0] if current else None, kernel, written, before, tuple(builder.grid_dim)))

        return fn_, after

    torch._dynamo.reset()
    saved = GraphLowering.save_output_code
    GraphLowering.save_output_code = save_output_code
    try:
        with config.patch(fx_graph_cache=False), torch._functorch.config.patch(enable_autograd_cache=False), installed(instrument):
            torch.compile(fn, backend=lambda gm, ex: compile_fx(gm, ex, inner_compile=inner))(*inputs)
    finally:
        GraphLowering.save_output_code = saved
        torch._dynamo.reset()

    eager: dict[int, dict] = {}
    position: dict[int, int] = {}
    for number, (graph, kernel, written, before, grid) in enumerate(launches):
        if graph is None or graph.gm is None:
            continue
        if id(graph) not in eager:
            runner = _EagerValues(graph.gm)
            with torch.no_grad():
                runner.run(*[_float64(a) for a in graph.inputs])
            eager[id(graph)] = runner.values
        calls = _launch_lines(graph.code)
        at = position.get(id(graph), 0)
        position[id(graph)] = at + 1
        if at >= len(calls) or calls[at][0] != kernel.__name__:
            continue  # a launch the wrapper's text does not show (an autotuning run): not compared
        names, exprs = list(kernel.arg_names), calls[at][1]
        for param, got in written.items():
            buffer = _buffer_name(exprs[names.index(param)]) if names.index(param) < len(exprs) else None
            buf = graph.buffers.get(buffer)
            node = getattr(buf, "origin_node", None) if buf is not None else None
            if node is None or node.name not in eager[id(graph)]:
                continue
            ok, error = _close(got, eager[id(graph)][node.name], rtol, atol)
            if ok:
                continue
            origins = sorted(buf.get_origins(), key=lambda n: list(node.graph.nodes).index(n))
            finding = Finding(
                kernel.__name__, number, buffer, param, node.name, error,
                [f"{o.name} = {o.target}" for o in origins], _user_line([node, *origins]),
                triton_versions.kernel_file_name(kernel),
            )
            if reproducer is not None:
                finding.reproducer = write_reproducer(reproducer, kernel, before, grid, param,
                                                      eager[id(graph)][node.name])
            return finding
    return None
