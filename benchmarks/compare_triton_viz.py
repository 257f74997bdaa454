"""Our bounds check and triton-viz's sanitizer on the same planted bug: what each reports, what it costs.

``PYTHONPATH=/path/to/repo python benchmarks/compare_triton_viz.py`` in an environment that has
``triton_viz`` next to this package's torch and triton (it is not a dependency: without it the script
says so and exits 0).  It compiles ``-x`` with ``neg``'s lowering shifted by one (the planted bug of
tests/debug_bugs.py, which the bounds-check tests use), keeps the one kernel launch that reads past the
end together with its arguments and grid, and runs that launch

1. alone, unchecked, through this package's interpreter launcher (the baseline);
2. through the same launcher inside :func:`ext_codegen.tools.debug.check_bounds`;
3. wrapped by triton-viz's sanitizer and launched the way a hand-written kernel is
   (``traced[grid](**args)``), outside torch.compile;

then tries the two ways triton-viz could reach a kernel compiled by torch.compile: wrapping the object
Inductor's generated module holds, and handing the wrapped kernel to this package's launcher.
Each check is timed on that one launch (best of ``--rounds``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import sys
import time
import traceback

# Not TRITON_INTERPRET=1 at import: with it set, triton.jit gives Inductor interpreted functions that
# Triton runs itself, and this package's launcher (so check_bounds) is never called.  It is set once the
# kernel has been captured, for triton-viz (see main()).

#: Block-pointer methods triton-viz 3.0 looks up on the interpreter's builder at import; Triton 3.8's
#: interpreter no longer has them (block pointers are gone).  Inductor's pointwise kernels use none.
BLOCK_POINTER_METHODS = ("create_make_block_ptr", "create_tensor_pointer_load",
                         "create_tensor_pointer_store", "create_advance")
IMPORT_ERROR = None


def _import_triton_viz():
    global IMPORT_ERROR
    try:
        import triton_viz  # noqa: F401
        return
    except ImportError as exc:
        print(f"triton_viz is not importable ({exc}); nothing to compare. "
              "Install triton-viz next to this package's torch and triton to run the comparison.")
        sys.exit(0)
    except AttributeError as exc:  # installed, but written against an older Triton interpreter
        IMPORT_ERROR = f"{type(exc).__name__}: {exc}"
    for name in list(sys.modules):
        if name == "triton_viz" or name.startswith("triton_viz."):
            del sys.modules[name]
    from triton.runtime import interpreter

    def stub(name):
        def missing(*args, **kwargs):
            raise NotImplementedError(f"{name}: not in this Triton's interpreter")
        return missing

    for name in BLOCK_POINTER_METHODS:
        if not hasattr(interpreter.InterpreterBuilder, name):
            setattr(interpreter.InterpreterBuilder, name, stub(name))
    try:
        import triton_viz  # noqa: F401, F811
    except Exception as exc:  # noqa: BLE001
        print(f"triton_viz does not import on this Triton ({IMPORT_ERROR}; with the block-pointer "
              f"methods stubbed: {type(exc).__name__}: {exc}); nothing to compare.")
        sys.exit(0)


_import_triton_viz()
import triton_viz  # noqa: E402
from triton_viz.clients import Sanitizer  # noqa: E402

import torch  # noqa: E402
import triton  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, os.pardir, "tests"))
import ext_codegen  # noqa: E402
from debug_bugs import off_by_one_neg  # noqa: E402
from ext_codegen.tools import debug  # noqa: E402
from ext_codegen.tools.debug.instrument import installed  # noqa: E402
from ext_codegen.triton_backend import launch  # noqa: E402


def capture():
    """The planted bug's kernel launch: ``(jit_fn, grid, args)``, args cloned before the kernel ran."""
    seen = []

    def record(kernel, fn, args, scope, builder):
        if not seen and kernel.__name__.startswith("triton_poi_fused_neg"):
            clone = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in args.items()}
            seen.append((kernel, tuple(builder.grid_dim), clone))
        return fn, None

    x = torch.randn(100, generator=torch.Generator().manual_seed(0))
    with off_by_one_neg(), installed(record):
        torch.compile(lambda t: -t)(x)
    return seen[0]


def fresh(args):
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in args.items()}


def timed(run, rounds):
    """Each round's ``(ms, outcome)``: the first round's outcome is the one reported."""
    rounds_ = []
    for _ in range(rounds):
        a = time.perf_counter()
        outcome = run()
        rounds_.append(((time.perf_counter() - a) * 1e3, outcome))
    return rounds_


def summary(rounds_) -> str:
    ms = [t for t, _ in rounds_]
    return f"first {ms[0]:.2f} ms, best of {len(ms)} {min(ms):.2f} ms"


def quiet(call):
    """``call()``'s result or exception, with what it printed."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            result = call()
        return "ok", result, _plain(out.getvalue())
    except BaseException as exc:  # triton-viz aborts with SystemExit or its own error
        return "raised", exc, _plain(out.getvalue())


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    opts = parser.parse_args()
    print(f"triton-viz {triton_viz.__version__}, torch {torch.__version__}, triton {triton.__version__}, "
          f"{platform.machine()} {os.cpu_count()} cores")
    if IMPORT_ERROR:
        print(f"plain `import triton_viz` failed: {IMPORT_ERROR}")
        print(f"imported with these builder methods stubbed: {', '.join(BLOCK_POINTER_METHODS)}")
    ext_codegen.register("cpu")
    kernel, grid, args = capture()
    print(f"kernel {kernel.__name__}, grid {grid}, args "
          + ", ".join(f"{k}={tuple(v.shape) if isinstance(v, torch.Tensor) else v}" for k, v in args.items()))
    print(f"source {kernel.fn.__code__.co_filename}")

    rounds_ = timed(lambda: launch.launch(kernel, grid, fresh(args)), opts.rounds)
    print(f"\n[unchecked launch] {summary(rounds_)}")

    def ours():
        with debug.check_bounds():
            return quiet(lambda: launch.launch(kernel, grid, fresh(args)))

    rounds_ = timed(lambda: quiet(ours)[1], opts.rounds)
    status, exc, _ = rounds_[0][1]
    print(f"\n[check_bounds] {summary(rounds_)}; every round {'/'.join(r[1][0] for r in rounds_)}; first:")
    print(f"{type(exc).__name__}: {exc}")

    os.environ["TRITON_INTERPRET"] = "1"  # triton-viz's warm-up step compiles otherwise

    def theirs():
        traced = triton_viz.trace(client=Sanitizer(abort_on_error=True))(kernel)
        return quiet(lambda: traced[grid](**fresh(args)))

    rounds_ = timed(theirs, opts.rounds)
    status, result, printed = rounds_[0][1]
    print(f"\n[triton-viz Sanitizer(abort_on_error=True), traced[grid](**args)] {summary(rounds_)}; "
          f"every round {'/'.join(r[1][0] for r in rounds_)}; first:")
    print(printed.rstrip())
    if status == "raised":
        print(f"{type(result).__name__}: {result}")

    print("\n[triton-viz on the object Inductor's generated module holds]")
    module = sys.modules[kernel.fn.__module__] if kernel.fn.__module__ in sys.modules else None
    held = getattr(module, kernel.__name__, None) if module else None
    print(f"module attribute {kernel.__name__} is a {type(held).__module__}.{type(held).__qualname__}")
    status, result, _ = quiet(lambda: triton_viz.trace(client=Sanitizer(abort_on_error=True))(held))
    print(f"{status}: {type(result).__name__}: {result}")

    print("\n[triton-viz's traced kernel handed to this package's launcher]")
    traced = triton_viz.trace(client=Sanitizer(abort_on_error=True))(kernel)
    status, result, printed = quiet(lambda: launch.launch(traced, grid, fresh(args)))
    print(printed.rstrip() or "(printed nothing)")
    if status == "raised":
        print("".join(traceback.format_exception_only(type(result), result)).rstrip())
    else:
        print("ok: returned without a report")


if __name__ == "__main__":
    main()
