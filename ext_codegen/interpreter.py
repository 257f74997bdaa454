"""Running Inductor's Triton kernels with Triton's interpreter, gaps closed.

The plugin's launcher calls :func:`launch` with a kernel's ``JITFunction``,
the grid and the arguments.  Triton's interpreter executes the kernel's
Python source one program instance at a time on numpy arrays.  Out of the
box it cannot run what Inductor emits; each gap is closed here, and only
while a kernel runs (every change goes through one ``_LangPatchScope`` that
is restored afterwards):

* **Helpers are JIT functions.**  Inductor's kernels call
  ``triton_helpers.*`` and other ``@triton.jit`` functions.  Outside
  ``TRITON_INTERPRET=1`` those are ``JITFunction`` objects, which refuse to be
  called from Python.  The kernel runs against a copy of its module's globals
  in which every JIT function, also inside helper modules, is replaced by an
  interpreted one, whatever the order in which torch and triton were imported.
* **libdevice.**  ``libdevice.exp``, ``erf``, ``tanh``, ``pow``, ``log1p``, ...
  are external calls the interpreter refuses.  They resolve to CUDA's
  declarations (which give Triton the argument and result types) and the
  calls are executed with the same-named PyTorch operation.
* **Comparisons.**  The interpreter gives ``x == y`` on floats the float
  dtype of ``x``, so combining comparisons with ``&`` failed; they are kept
  boolean, as Triton types them.
* **bfloat16.**  The interpreter keeps bf16 as raw 16-bit patterns; it has no
  bf16 constants and converts other dtypes to bf16 with a plain integer cast
  (a silently wrong value).  Every cast runs through ``torch.Tensor.to``,
  which rounds as eager does.
* **Atomics with a broadcast operand.**  ``tl.atomic_add(ptrs, 1.0)``
  broadcasts the scalar with ``np.broadcast_to`` (a stride-0 view), and the
  interpreter's C++ ``atomic_rmw`` reads its operands as dense arrays: every
  element after the first read memory past the scalar.  Operands are made
  dense first; bf16 atomics, which that helper lacks, are done in Python.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import torch

from . import compat, fastpath

tl = compat.triton_language()
interp = compat.triton_interpreter()
compat.preload_lazy_triton_modules()

# ---------------------------------------------------------------- dtypes

_TL_TO_TORCH = {
    "int1": torch.bool, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
    "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,
    "fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32,
    "fp64": torch.float64,
}


def _torch_dtype(tl_dtype) -> torch.dtype | None:
    return _TL_TO_TORCH.get(tl_dtype.name)


def _to_torch(data: np.ndarray, tl_dtype) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(data))
    if tl_dtype.name == "bf16":
        return t.view(torch.int16).view(torch.bfloat16)
    return t


def _to_numpy(t: torch.Tensor, tl_dtype) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


def _cast(builder, src, dst_type):
    """Replacement for ``InterpreterBuilder.cast_impl``: convert as eager does.

    numpy's ``astype`` rounds and truncates as PyTorch does for the dtypes
    both know; bf16, which numpy lacks, goes through ``torch.Tensor.to``.
    """
    dst = dst_type.scalar
    src_t, dst_t = _torch_dtype(src.dtype.scalar), _torch_dtype(dst)
    if src_t is None or dst_t is None:  # fp8 and friends: Triton's own path
        return _original_cast(builder, src, dst_type)
    if src_t == dst_t:
        return interp.TensorHandle(src.data, dst)
    if torch.bfloat16 in (src_t, dst_t):
        out = _to_numpy(_to_torch(src.data, src.dtype.scalar).to(dst_t), dst)
    else:
        out = src.data.astype(interp._get_np_dtype(dst))
    return interp.TensorHandle(out, dst)


_original_cast = interp.InterpreterBuilder.cast_impl


def _is_bf16(handle) -> bool:
    return getattr(handle.dtype, "scalar", None) is not None and handle.dtype.scalar.name == "bf16"


def _bf16_to_f32(handle):
    if _is_bf16(handle):
        return interp.TensorHandle(_to_torch(handle.data, tl.bfloat16).float().numpy(), tl.float32)
    return handle


def _bf16_arithmetic(original):
    """Wrap an ``InterpreterBuilder`` operator so bf16 operands are computed, not bit-mangled.

    The interpreter stores bf16 as uint16 bit patterns and would add, multiply
    and compare those integers.  Here bf16 operands are widened to float32,
    the operator runs, and a floating result is rounded back to bf16, as a
    GPU's bf16 arithmetic does.
    """

    def op(builder, *handles, **kwargs):
        if not any(isinstance(h, interp.TensorHandle) and _is_bf16(h) for h in handles):
            return original(builder, *handles, **kwargs)
        wide = [_bf16_to_f32(h) if isinstance(h, interp.TensorHandle) else h for h in handles]
        out = original(builder, *wide, **kwargs)
        if out.data.dtype.kind == "f":
            rounded = torch.from_numpy(np.ascontiguousarray(out.data, dtype=np.float32)).to(torch.bfloat16)
            return interp.TensorHandle(_to_numpy(rounded, tl.bfloat16), tl.bfloat16)
        return out

    return op


_BF16_AWARE = ("binary_op", "unary_op", "ternary_op", "create_fma")


def _comparisons_are_int1(original):
    """Wrap ``binary_op`` so comparisons keep their boolean result.

    The interpreter casts every binary result to the left operand's dtype, so
    ``x == x`` on floats became a float array of 0.0/1.0, and ``(x == x) & m``
    then failed in numpy.  Triton types a comparison as ``int1``: keep it so.
    """

    def binary_op(builder, lhs, rhs, op):
        out = original(builder, lhs, rhs, op)
        if op in _COMPARISONS:
            return interp.TensorHandle(out.data.astype(bool, copy=False), tl.int1)
        return out

    return binary_op


_COMPARISONS = (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)


def _get_bf16(builder, value):
    bits = torch.tensor([value], dtype=torch.float64).to(torch.bfloat16)
    return interp.TensorHandle(_to_numpy(bits, tl.bfloat16), tl.bfloat16)


def _dense_operands(original):
    """Wrap ``create_atomic_rmw``/``create_atomic_cas`` so the C++ helper gets dense arrays.

    Found by the conformance tool: ``max_pool2d_with_indices_backward``
    scatters a constant gradient with ``tl.atomic_add(ptrs, 1.0, mask)`` and
    got garbage where two windows overlap.
    """

    def op(builder, *args):
        dense = [
            interp.TensorHandle(np.ascontiguousarray(a.data), a.dtype) if isinstance(a, interp.TensorHandle) else a
            for a in args
        ]
        return original(builder, *dense)

    return op


def _bf16_atomic_rmw(original):
    """Wrap ``create_atomic_rmw``: bf16 atomics, which the interpreter's C++ helper rejects.

    ``tl.atomic_add`` on a bf16 tensor (Inductor's ``scatter_add``, ``put``,
    ``index_put(accumulate=True)`` in bfloat16; found by the conformance tool)
    raised ``ValueError: Unsupported data type``.  One program instance runs
    at a time, so the read-modify-write is done here element by element, in
    order (repeated addresses accumulate), rounding to bf16 after each step.
    """

    def op(builder, rmw_op, ptr, val, mask, sem, scope):
        if not _is_bf16(val):
            return original(builder, rmw_op, ptr, val, mask, sem, scope)
        kind = builder.ir_rmw_op_to_interpreter_rmw_op.get(rmw_op)
        combine = _BF16_RMW.get(kind)
        if combine is None:
            raise NotImplementedError(f"ext_codegen: bf16 atomic {rmw_op} in the interpreter")
        shape = ptr.data.shape
        ptrs = np.array(ptr.data, dtype=np.uint64).reshape(-1)  # a writable copy: the C++ store wants one
        values = _to_torch(np.broadcast_to(val.data, shape).reshape(-1), tl.bfloat16).float()
        live = np.broadcast_to(mask.data, shape).reshape(-1)
        old = np.zeros(ptrs.shape, dtype=np.uint16)
        one, zero = np.ones(1, dtype=bool), np.zeros(1, dtype=np.uint16)
        for k in np.flatnonzero(live):
            bits = interp._interpreter.load(ptrs[k:k + 1], one, zero, np.dtype(np.uint16))
            old[k] = bits[0]
            current = _to_torch(bits, tl.bfloat16).float()
            new = combine(current, values[k:k + 1]).to(torch.bfloat16)
            interp._interpreter.store(ptrs[k:k + 1], _to_numpy(new, tl.bfloat16), one)
        return interp.TensorHandle(old.reshape(shape), tl.bfloat16)

    return op


_RMW = interp._interpreter.RMW_OP
_BF16_RMW = {
    _RMW.FADD: torch.add, _RMW.MAX: torch.maximum, _RMW.MIN: torch.minimum,
    _RMW.XCHG: lambda current, value: value,
}


# ---------------------------------------------------------------- libdevice

def _libdevice_torch_fn(symbol: str):
    """``__nv_expf`` -> ``torch.exp``; ``None`` where PyTorch has no match."""
    name = symbol.removeprefix("__nv_")
    for candidate in (name, name[:-1] if name[-1:] in ("f", "d") else None):
        if candidate and candidate in LIBDEVICE_TO_TORCH:
            return LIBDEVICE_TO_TORCH[candidate]
    return None


def _signbit(x):
    return torch.signbit(x).to(torch.int32)


def _isinf(x):
    return torch.isinf(x).to(torch.int32)


def _isnan(x):
    return torch.isnan(x).to(torch.int32)


def _rint(x):
    return torch.round(x)


def _llrint(x):
    return torch.round(x).to(torch.int64)


def _div_rn(x, y):
    return x / y


def _ilogb(x):
    return torch.frexp(x)[1] - 1


def _ldexp(x, n):
    return torch.ldexp(x, n.to(x.dtype)).to(x.dtype)


def _fmod(x, y):
    return torch.fmod(x, y)


def _cyl_bessel_i0(x):
    return torch.special.i0(x)


LIBDEVICE_TO_TORCH = {
    # unary, same dtype out
    "abs": torch.abs, "fabs": torch.abs, "acos": torch.acos, "acosh": torch.acosh,
    "asin": torch.asin, "asinh": torch.asinh, "atan": torch.atan, "atanh": torch.atanh,
    "cbrt": lambda x: torch.sign(x) * torch.abs(x).pow(1.0 / 3.0),
    "ceil": torch.ceil, "cos": torch.cos, "cosh": torch.cosh, "erf": torch.erf,
    "erfc": torch.erfc, "erfinv": torch.erfinv, "exp": torch.exp, "exp2": torch.exp2,
    "exp10": lambda x: torch.pow(10.0, x).to(x.dtype), "expm1": torch.expm1,
    "floor": torch.floor, "lgamma": torch.lgamma, "log": torch.log, "log10": torch.log10,
    "log1p": torch.log1p, "log2": torch.log2, "nearbyint": _rint, "rint": _rint,
    "round": lambda x: torch.sign(x) * torch.floor(torch.abs(x) + 0.5),
    "rsqrt": torch.rsqrt, "sin": torch.sin, "sinh": torch.sinh, "sqrt": torch.sqrt,
    "tan": torch.tan, "tanh": torch.tanh, "fast_tanh": torch.tanh, "trunc": torch.trunc,
    "tgamma": lambda x: torch.exp(torch.lgamma(x)) * torch.where(
        (x < 0) & (torch.floor(x).remainder(2) == 0), -1.0, 1.0).to(x.dtype),
    "j0": torch.special.bessel_j0, "j1": torch.special.bessel_j1,
    "y0": torch.special.bessel_y0, "y1": torch.special.bessel_y1,
    "cyl_bessel_i0": _cyl_bessel_i0, "cyl_bessel_i1": torch.special.i1,
    "normcdf": torch.special.ndtr, "normcdfinv": torch.special.ndtri,
    "erfcx": torch.special.erfcx, "sinpi": lambda x: torch.sin(torch.pi * x),
    "cospi": lambda x: torch.cos(torch.pi * x), "rcp": torch.reciprocal,
    "frcp_rn": torch.reciprocal, "saturate": lambda x: x.clamp(0, 1),
    # predicates and integer results
    "signbit": _signbit, "isinf": _isinf, "isnan": _isnan,
    "isfinite": lambda x: torch.isfinite(x).to(torch.int32),
    "finitef": lambda x: torch.isfinite(x).to(torch.int32),
    "llrint": _llrint, "ilogb": _ilogb,
    # binary
    "atan2": torch.atan2, "copysign": torch.copysign, "fmod": _fmod,
    "hypot": torch.hypot, "nextafter": torch.nextafter, "pow": torch.pow,
    "powi": lambda x, n: torch.pow(x, n), "fmax": torch.fmax, "fmin": torch.fmin,
    "remainder": torch.remainder, "fdim": lambda x, y: torch.clamp(x - y, min=0),
    "div_rn": _div_rn, "fdiv_rn": _div_rn, "ldexp": _ldexp,
    "fma": lambda x, y, z: x * y + z,
}


def _extern_elementwise(builder, lib_name, lib_path, symbol, args, ret_type, is_pure):
    fn = _libdevice_torch_fn(symbol)
    if fn is None:
        raise NotImplementedError(
            f"ext_codegen: libdevice function {symbol!r} has no PyTorch equivalent "
            "in the interpreter; add it to ext_codegen.interpreter.LIBDEVICE_TO_TORCH"
        )
    ret = ret_type.scalar
    with torch.no_grad():
        out = fn(*(_to_torch(a.data, a.dtype.scalar) for a in args))
    out = out.to(_torch_dtype(ret))
    return interp.TensorHandle(_to_numpy(out, ret), ret)


# ---------------------------------------------------------------- globals

_LANGUAGE_MODULES = (tl, tl.core, tl.math, tl.standard)


def _is_language_module(mod) -> bool:
    return any(mod is m for m in _LANGUAGE_MODULES)


class _InterpretedModule(types.ModuleType):
    """A module seen from interpreted code: its JIT functions interpreted."""

    def __init__(self, module: types.ModuleType) -> None:
        super().__init__(module.__name__)
        self.__wrapped_module = module

    def __getattr__(self, name: str):
        value = _interpretable(getattr(self.__wrapped_module, name))
        setattr(self, name, value)
        return value


class _DeviceFunction(interp.InterpretedFunction):
    """An interpreted ``@triton.jit`` function called from inside a kernel.

    Triton's own class patches ``triton.language`` again on every device call
    and never restores it, which leaves the language patched for the next
    real compilation.  :func:`launch` patches once, for the whole kernel, and
    restores afterwards; device calls only run the rewritten function.
    """

    def __call__(self, *args, **kwargs):
        return self.rewrite()(*args, **kwargs)


# A function whose globals name both ``triton.language`` and
# ``triton.language.core``, so that one ``_patch_lang`` covers every module
# that kernels and Triton's own helpers (``tl.standard`` uses ``core``) call.
_LANGUAGE_PROBE = types.FunctionType(compile("None", "<ext_codegen>", "eval"), {"tl": tl, "core": tl.core})

_converted: dict[int, Any] = {}


def _interpretable(value):
    """What interpreted code should see in place of ``value``."""
    key = id(value)
    if key in _converted:
        return _converted[key][1]
    result = value
    if isinstance(value, compat.JITFunction):
        clone = _rebind(value.fn)
        if key in _converted:  # created while its module's globals were filled
            return _converted[key][1]
        result = _DeviceFunction(clone)
    elif isinstance(value, types.ModuleType) and not _is_language_module(value):
        if value.__name__.endswith("libdevice"):
            result = _libdevice_module()
        elif any(isinstance(v, compat.JITFunction) for v in vars(value).values()):
            result = _InterpretedModule(value)
    # keep ``value`` alive so its id is never reused for another object
    _converted[key] = (value, result)
    return result


_globals: dict[int, tuple[dict, dict]] = {}


def _interpreted_globals(source: dict) -> dict:
    """A copy of a module's globals in which JIT functions and helper modules are interpreted.

    The copy is cached before it is filled, so modules whose helpers call
    each other (``triton_helpers``) resolve to the one copy.
    """
    entry = _globals.get(id(source))
    if entry is not None:
        return entry[1]
    copy = dict(source)
    _globals[id(source)] = (source, copy)
    for name, value in source.items():
        if isinstance(value, (compat.JITFunction, types.ModuleType)):
            copy[name] = _interpretable(value)
    return copy


def _rebind(fn: types.FunctionType) -> types.FunctionType:
    """``fn`` over the interpreted copy of its globals."""
    clone = types.FunctionType(
        fn.__code__, _interpreted_globals(fn.__globals__), fn.__name__, fn.__defaults__, fn.__closure__
    )
    clone.__kwdefaults__ = fn.__kwdefaults__
    clone.__annotations__ = dict(fn.__annotations__)
    return clone


_LIBDEVICE = None


def _libdevice_module():
    global _LIBDEVICE
    if _LIBDEVICE is None:
        from triton.language.extra.cuda import libdevice

        _LIBDEVICE = libdevice
    return _LIBDEVICE


_language_jit: list[tuple[types.ModuleType, str, Any]] | None = None


def _language_jit_functions():
    """``tl.zeros``, ``tl.sum``, ...: the JIT functions of ``triton.language`` itself."""
    global _language_jit
    if _language_jit is None:
        _language_jit = [
            (mod, name, _interpretable(value))
            for mod in (tl, tl.standard, tl.math)
            for name, value in vars(mod).items()
            if isinstance(value, compat.JITFunction)
        ]
    return _language_jit


# ---------------------------------------------------------------- reductions
#
# Triton's interpreter reduces with numpy only for ``tl.sum``/``tl.max``/...;
# any other combine function runs element by element in Python (about 0.1 s
# per 1024 elements).  Inductor reduces through its own helpers
# (``triton_helpers.max2`` combines with ``maximum``, argmax with
# ``maximum_with_index``, var/mean with ``welford_combine``), so those are
# recognised here and computed with numpy, with the helpers' semantics (NaN
# propagates, ties go to the smallest index).


def _nan_max(x, axis):
    return np.max(x, axis=axis)  # np.max propagates NaN, as triton_helpers.maximum does


def _nan_min(x, axis):
    return np.min(x, axis=axis)


def _arg_reduce(pick):
    def reduce(values, index, axis):
        best = pick(values, axis)
        hit = values == np.expand_dims(best, axis)
        if values.dtype.kind == "f":
            hit |= np.isnan(values) & np.expand_dims(np.isnan(best), axis)
        big = np.iinfo(index.dtype).max
        return best, np.where(hit, index, big).min(axis=axis)

    return reduce


def _welford(mean, m2, weight, axis):
    total = weight.sum(axis=axis)
    safe = np.where(total == 0, 1, total)
    new_mean = np.where(total == 0, 0, (mean * weight).sum(axis=axis) / safe)
    spread = weight * (mean - np.expand_dims(new_mean, axis)) ** 2
    return new_mean.astype(mean.dtype), (m2.sum(axis=axis) + spread.sum(axis=axis)).astype(m2.dtype), total


def _fast_reductions():
    from torch._inductor.runtime import triton_helpers as th

    table = {
        "maximum": lambda v, axis: (_nan_max(v, axis),),
        "minimum": lambda v, axis: (_nan_min(v, axis),),
        "_prod_accumulate": lambda v, axis: (np.prod(v, axis=axis),),
        "_any_combine": lambda v, axis: (np.any(v, axis=axis),),
        "maximum_with_index": _arg_reduce(_nan_max),
        "minimum_with_index": _arg_reduce(_nan_min),
        "welford_combine": _welford,
    }
    return {
        id(_interpretable(getattr(th, name))): impl for name, impl in table.items() if hasattr(th, name)
    }


_FAST = None


def _reduce_with(fallback):
    """``tl.reduce`` that computes Inductor's known combine functions with numpy."""

    def reduce(input, axis, combine_fn, keep_dims=False, **kwargs):
        global _FAST
        if _FAST is None:
            _FAST = _fast_reductions()
        impl = _FAST.get(id(combine_fn))
        if impl is None or axis is None:
            return fallback(input, axis, combine_fn, keep_dims=keep_dims, **kwargs)
        tensors = input if isinstance(input, tuple) else (input,)
        axis = int(axis)
        results = impl(*(t.handle.data for t in tensors), axis)
        helper = interp.ReduceOps(axis, combine_fn, keep_dims)
        out = []
        for data, t in zip(results, tensors):
            data = np.asarray(data)
            if keep_dims:
                data = np.expand_dims(data, axis)
            out.append(helper.to_tensor(data, t.dtype))
        return tuple(out) if isinstance(input, tuple) else out[0]

    return reduce


# ---------------------------------------------------------------- launch

_kernels: dict[Any, tuple] = {}

#: Number of kernel launches executed by the interpreter in this process
#: (the conformance tool uses it to tell "ran our kernels" from "fell back").
launch_count = 0
#: Number of program instances the interpreter executed (after widening).
program_count = 0


def _live(jit_fn):
    """The ``JITFunction`` with its Python function attached.

    When Inductor compiles in its worker processes, the kernel object that
    comes back has had its function dropped for pickling (``fn.fn is None``);
    the kernel's module file is still on disk, so it is loaded again here.
    """
    if jit_fn.fn is not None:
        return jit_fn
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"ext_codegen_kernel_{abs(hash(jit_fn.file_name))}", jit_fn.file_name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kernel = getattr(module, jit_fn.__name__)
    return getattr(kernel, "fn", kernel)


def _prepare(jit_fn):
    entry = _kernels.get(jit_fn)
    if entry is None:
        live = _live(jit_fn)
        ifn = _interpretable(live)
        fn = ifn.rewrite()
        constexprs = {n for n, ty in live.fn.__annotations__.items() if compat.is_constexpr_annotation(ty)}
        entry = _kernels[jit_fn] = (ifn, fn, constexprs, live)
    return entry


#: How many elements one interpreted program instance may handle once its
#: x-block is widened (see :func:`widen_x_block`): Triton's own limit on the
#: size of a block (``TRITON_MAX_TENSOR_NUMEL``, 2^20), the size at which the
#: interpreter's fixed cost per program and per operation (about a
#: millisecond, and tens of microseconds) is small next to numpy's work.
ELEMENTS_PER_PROGRAM = 1 << 20

_WIDENABLE: dict[Any, dict[str, bool]] = {}

# (axis, program_id axis, block argument): the ranges of Inductor's kernels that can be widened
_AXES = (("x", 0, "XBLOCK"), ("y", 1, "YBLOCK"))


def _widenable_axes(jit_fn) -> dict[str, bool]:
    """The axes of an Inductor kernel whose range is ``program_id(i) * BLOCK``, each with
    whether the kernel masks it (``xmask = xindex < xnumel``) or not (``tl.full(..., True)``).

    An axis qualifies only if its ``program_id`` appears nowhere else in the
    kernel, so that the block is all the program index selects.
    """
    key = jit_fn
    if key not in _WIDENABLE:
        src = jit_fn.src if isinstance(getattr(jit_fn, "src", None), str) else ""
        axes = {}
        if jit_fn.__name__.startswith(("triton_poi_", "triton_per_", "triton_red_")) and "num_programs" not in src:
            for axis, pid, block in _AXES:
                if (f"{axis}offset = tl.program_id({pid}) * {block}" in src
                        and src.count(f"tl.program_id({pid})") == 1 and block in jit_fn.arg_names):
                    axes[axis] = f"{axis}mask = {axis}index < {axis}numel" in src
        _WIDENABLE[key] = axes
    return _WIDENABLE[key]


def _is_widenable(jit_fn) -> bool:
    return "x" in _widenable_axes(jit_fn)


def widen_x_block(jit_fn, grid, args):
    """Fewer, wider program instances for the interpreter.

    Inductor sizes ``XBLOCK`` (and ``YBLOCK`` in tiled kernels) for GPUs
    (e.g. 1,024 elements, or 8 rows per program in a persistent reduction), and the
    interpreter pays about a millisecond of Python per program instance
    whatever its size.  For Inductor's own kernels, whose x range is
    ``program_id(0) * XBLOCK + arange(XBLOCK)``, multiplying ``XBLOCK`` by a
    power of two and dividing the grid's x extent by the same factor covers
    the same indices: each element is computed by the same code, from the same
    operands, in a different program instance, so the result is unchanged.
    Where the kernel masks the range (``xmask = xindex < xnumel``) the grid
    is rounded up and the mask trims the tail; where it does not (Inductor
    knew the block divides the size), the factor must divide the grid, or the
    last program would run past the end.  The y range of tiled kernels is
    widened the same way with what remains of the budget.  The reduction
    block (``R0_BLOCK``) is never changed: it fixes the order in which a
    looped reduction adds.  Other kernels (templates, user kernels) run as
    launched.
    """
    axes = _widenable_axes(jit_fn)
    if not axes:
        return grid, args
    elements = 1
    for name in ("XBLOCK", "YBLOCK", "R0_BLOCK", "R1_BLOCK"):
        if isinstance(args.get(name), int):
            elements *= args[name]
    for rblock, rnumel in (("R0_BLOCK", "r0_numel"), ("R1_BLOCK", "r1_numel")):
        # A persistent reduction fixes its R block inside the kernel, at the
        # next power of two of the reduction size: count it, or a widened
        # block would exceed Triton's tensor size limit.
        if rblock not in args and isinstance(args.get(rnumel), int):
            elements *= 1 << max(0, int(args[rnumel]) - 1).bit_length()
    limit = min(ELEMENTS_PER_PROGRAM, tl.core.TRITON_MAX_TENSOR_NUMEL)
    grid, args = list(grid), dict(args)
    for axis, pid, block in _AXES:
        if axis not in axes or not isinstance(args.get(block), int):
            continue
        masked, extent, factor = axes[axis], grid[pid], 1
        # masked: up to one program for the whole range; unmasked: exact divisions only
        while elements * factor * 2 <= limit and (factor < extent if masked else extent % (factor * 2) == 0):
            factor *= 2
        grid[pid] = (extent + factor - 1) // factor
        args[block] *= factor
        elements *= factor
    return tuple(grid), args


# Scalar argument types of a kernel signature (``"fp64"``, ``"i64"``, ...).
_SCALAR_TYPES = {
    "i1": tl.int1, "i8": tl.int8, "i16": tl.int16, "i32": tl.int32, "i64": tl.int64,
    "u8": tl.uint8, "u16": tl.uint16, "u32": tl.uint32, "u64": tl.uint64,
    "fp16": tl.float16, "bf16": tl.bfloat16, "fp32": tl.float32, "fp64": tl.float64,
}


def _scalar_argument(value, signature_type: str | None):
    """A scalar kernel argument with the type the kernel's signature declares.

    Out of the box the interpreter types a Python int by its value (int32 when
    small) and leaves a float a Python float, which Triton then treats as an
    fp32 constant.  Inductor passes a 0-d float64 cpu tensor to a kernel by
    value (``tmp1 = in_ptr1``, signature ``fp64``): ``libdevice.atan2(x, tmp1)``
    then met ``(fp64, fp32)`` and failed (found by ``tests/test_fuzz.py``).  A
    GPU launcher converts by the signature; so does this.
    """
    ty = _SCALAR_TYPES.get(signature_type or "")
    if ty is None or not isinstance(value, (bool, int, float)):
        return interp._implicit_cvt(value)
    if ty is tl.bfloat16:
        data = _to_numpy(torch.tensor([value], dtype=torch.bfloat16), ty)
    else:
        data = np.array([value], dtype=interp._get_np_dtype(ty))
    return tl.tensor(interp.TensorHandle(data, ty), ty)


_LANGUAGE_PATCHES: list[tuple[Any, str, Any]] | None = None


def _patch_language():
    """Triton's own patches of ``triton.language`` for interpretation, in a new scope.

    ``interp._patch_lang`` (and patching libdevice the same way) walks every
    member of half a dozen modules and classes with ``inspect.getmembers`` and
    wraps each builtin: about half of a small launch's fixed cost.  The
    attributes it sets do not depend on the launch, so the first launch records
    them and later ones set the same objects again, through the same kind of
    scope, restored the same way.
    """
    global _LANGUAGE_PATCHES
    if _LANGUAGE_PATCHES is not None:
        scope = interp._LangPatchScope()
        for obj, name, value in _LANGUAGE_PATCHES:
            scope.set_attr(obj, name, value)
        return scope
    scope = interp._patch_lang(_LANGUAGE_PROBE)
    interp._patch_builtin(_libdevice_module(), interp.interpreter_builder, scope)
    try:  # the raw attribute (a property or staticmethod as stored, not as looked up)
        _LANGUAGE_PATCHES = [(obj, name, vars(obj)[name]) for obj, name, _ in scope._changes]
    except (AttributeError, KeyError, TypeError):  # a Triton that patches differently: no replay
        _LANGUAGE_PATCHES = None
    return scope


def launch(jit_fn, grid: tuple[int, int, int], args: dict[str, Any], signature: dict[str, str] | None = None) -> None:
    """Run ``jit_fn`` over ``grid`` with ``args`` (all parameters, by name).

    ``signature`` (parameter name to Triton type string) types scalar arguments.
    """
    global launch_count, program_count
    launch_count += 1
    ifn, fn, constexprs, live = _prepare(jit_fn)
    grid, args = widen_x_block(live, grid, args)
    scope = _patch_language()
    try:
        builder = interp.interpreter_builder
        cls = type(builder)
        scope.set_attr(cls, "cast_impl", _cast)
        scope.set_attr(cls, "get_bf16", _get_bf16)
        scope.set_attr(cls, "create_extern_elementwise", _extern_elementwise)
        for name in _BF16_AWARE:
            scope.set_attr(cls, name, _bf16_arithmetic(getattr(cls, name)))
        scope.set_attr(cls, "binary_op", _comparisons_are_int1(cls.binary_op))
        fastpath.install(scope, builder, args)
        for name in ("create_atomic_rmw", "create_atomic_cas"):
            scope.set_attr(cls, name, _dense_operands(getattr(cls, name)))
        scope.set_attr(cls, "create_atomic_rmw", _bf16_atomic_rmw(cls.create_atomic_rmw))
        compat.patch_interpreter_gaps(scope)
        scope.set_attr(tl, "reduce", _reduce_with(tl.reduce))
        for mod, name, value in _language_jit_functions():
            scope.set_attr(mod, name, value)
        call_args = {
            name: value if name in constexprs else _scalar_argument(value, (signature or {}).get(name))
            for name, value in args.items()
        }
        gx, gy, gz = grid
        program_count += gx * gy * gz
        builder.set_grid_dim(gx, gy, gz)
        for x in range(gx):
            for y in range(gy):
                for z in range(gz):
                    builder.set_grid_idx(x, y, z)
                    fn(**call_args)
    finally:
        scope.restore()
