"""One op, one dtype, one backend: run eager and the compiled samples, compare, and classify.

:func:`run_op` returns the row of the report (``result``, ``why`` and the
facts behind them); the classes are described in the package docstring
(:mod:`ext_codegen.tools.conformance`).  It runs in a worker process
(:mod:`.workers`), or in-process with the backend registered.
"""

from __future__ import annotations

from .compare import compare, compare_unstable_sort, exact_same, unstable_sort
from .fallback import code_facts, fallback_reason
from .opinfo import call, op_supports_float64, placements, samples, seed, state, to_float64

#: Ops whose values are uninitialised memory: only shape and dtype are compared.
UNDEFINED_VALUES = frozenset(
    {"empty", "empty_like", "new_empty", "new_empty_strided", "empty_strided", "empty_permuted"}
)

#: Samples compiled together as one function: one compilation for many samples,
#: but not so many that Inductor's fusion passes (quadratic in the number of
#: nodes) dominate; some ops have hundreds of samples.
SAMPLES_PER_COMPILE = 24


def describe_error(e: BaseException) -> str:
    """``ExceptionType: first line of the message``, at most 300 characters: the ``why`` of an error row."""
    text = str(e).strip().splitlines()
    # Inductor wraps lowering errors: "LoweringException: NotImplementedError: ..."
    first = next((line.strip() for line in text if line.strip()), "")
    return f"{type(e).__name__}: {first}"[:300]


def run_op(op, dtype, limit, backend: str, device: str = "cpu") -> dict:
    """Classify one op for one dtype: the row of the report (without op/dtype/backend keys).

    With ``device`` other than cpu the compiled samples are copies of the cpu
    samples on that device, and their results and mutated inputs are copied
    back to cpu before they are compared with eager's.
    """
    import torch
    from torch._dynamo.utils import counters
    from torch._inductor.utils import run_and_get_code

    from ext_codegen.triton_backend import launch
    from ext_codegen.triton_backend.native import route

    fn = op.op
    name = op.name
    eager_in = samples(op, dtype, limit)
    total = len(eager_in)
    if total == 0:
        return {"result": "error", "why": "the op has no samples for this dtype", "samples": 0}
    again = samples(op, dtype, limit)
    refs: dict[int, object] = {}
    random_samples, eager_errors = 0, []
    for i, (s, t) in enumerate(zip(eager_in, again)):
        try:
            seed(1000 + i)
            r = call(fn, s)
            seed(2000 + i)
            r2 = call(fn, t)
        except Exception as e:  # noqa: BLE001 - eager rejects the sample: nothing to compare
            eager_errors.append(describe_error(e))
            continue
        if name not in UNDEFINED_VALUES and not exact_same(r, r2):
            random_samples += 1
            continue
        refs[i] = r
    row = {"samples": total, "random_samples": random_samples}
    if not refs:
        if random_samples:
            return {**row, "result": "random", "why": "eager's result depends on the random seed"}
        return {**row, "result": "error", "why": f"eager itself fails: {eager_errors[0]}"}
    if eager_errors:
        row["eager_error_samples"] = len(eager_errors)
    keep = sorted(refs)
    row["compared"] = len(keep)

    def run_batch(batch):
        return [fn(inp, *args, **kwargs) for inp, args, kwargs in batch]

    def on(where, tree):
        return torch.utils._pytree.tree_map(lambda t: t.to(where) if isinstance(t, torch.Tensor) else t, tree)

    placed = placements(op, dtype, limit, device) if device != "cpu" else None

    def to_device(i, sample):
        # Each tensor where OpInfo would have made it for the device, else on the device.
        where = iter(placed[i] if placed and i < len(placed) else ())
        return sample.transform(lambda t: t.to(next(where, device)) if isinstance(t, torch.Tensor) else t)

    def compile_and_run(indices, chosen=None):
        chosen = chosen or samples(op, dtype, limit)
        used = [chosen[i] if device == "cpu" else to_device(i, chosen[i]) for i in indices]
        batch = [(s.input, s.args, s.kwargs) for s in used]
        torch._dynamo.reset()
        outs, codes = run_and_get_code(torch.compile(run_batch, dynamic=False), batch)
        if device != "cpu":
            outs, used = on("cpu", outs), [s.transform(lambda t: on("cpu", t)) for s in used]
        return outs, codes, used

    counters.clear()
    before = launch.launch_count
    native_before, fallbacks_before = route.native_launches, route.fallbacks.copy()
    outs: dict[int, object] = {}
    states: dict[int, list] = {}
    errors: dict[int, str] = {}
    codes: list[str] = []
    compiled_in = samples(op, dtype, limit)
    for chunk in (keep[k:k + SAMPLES_PER_COMPILE] for k in range(0, len(keep), SAMPLES_PER_COMPILE)):
        try:
            got, c, used = compile_and_run(chunk, compiled_in)
            codes += c
            for i, o, s in zip(chunk, got, used):
                outs[i], states[i] = o, state(s)
        except Exception:  # noqa: BLE001 - isolate the failing samples
            for i in chunk:
                try:
                    got, c, used = compile_and_run([i])
                    outs[i], states[i] = got[0], state(used[0])
                    codes += c
                except Exception as e:  # noqa: BLE001
                    errors[i] = describe_error(e)
    launches = launch.launch_count - before
    breaks = list(counters["graph_break"])
    kernels, externs = code_facts(codes, backend)
    row.update(kernels=kernels, externs=externs, graph_breaks=len(breaks))
    if backend == "ext":
        row["launches"] = launches
        if route.enabled():  # the native path (docs/native.md): launches it ran, kernels it handed back
            row["native_launches"] = route.native_launches - native_before
            row["native_fallbacks"] = dict(route.fallbacks - fallbacks_before)  # reason: kernels

    values = name not in UNDEFINED_VALUES
    tensor_wide: list[int] = []
    for i in keep:
        if i not in outs:
            continue
        eager_state = state(eager_in[i])
        bad = (compare_unstable_sort(name, eager_in[i], outs[i], refs[i]) if unstable_sort(name, eager_in[i])
               else compare(outs[i], refs[i], values=values)) or compare(states[i], eager_state, values=values)
        if bad and dtype in (torch.float16, torch.bfloat16, torch.float32) and (values and op_supports_float64(op)):
            s64 = to_float64(samples(op, dtype, limit)[i], dtype)
            try:
                seed(1000 + i)
                r64 = call(fn, s64)
                used: set = set()
                bad = compare(outs[i], refs[i], r64, used=used) or compare(states[i], eager_state, state(s64), used=used)
                if not bad and used:
                    tensor_wide.append(i)
            except Exception:  # noqa: BLE001 - no float64 reference: keep the first verdict
                pass
        if bad:
            return {**row, "result": "mismatch", "why": f"sample {i}: {bad}", "mismatched_sample": i}
    if errors:
        i, why = next(iter(errors.items()))
        return {**row, "result": "error", "why": f"{len(errors)} of {len(keep)} samples fail; sample {i}: {why}"}
    ran = launches if backend == "ext" else kernels
    if tensor_wide:
        row["tensor_wide_samples"] = tensor_wide
    if not values:
        row["note"] = "values not compared (uninitialised memory)"
    if ran:
        return {**row, "result": "pass"}
    return {**row, "result": "fallback", "why": fallback_reason(codes, externs, kernels, launches, breaks, backend)}
