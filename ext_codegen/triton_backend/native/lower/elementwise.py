"""Elementwise ops (arith, math, libdevice calls, casts, constants) as one C expression per element.

Every op here becomes ``r[i] = EXPR(a[i], b[i], ...)`` (or a scalar
statement).  The expressions pin down Triton's semantics where C differs:

* integer ``+ - *`` wrap: computed in the unsigned type and cast back;
* division, remainder and shifts go through the prelude's guarded helpers
  (no trap on ``x/0`` or ``INT_MIN/-1``, no UB on shifts >= the width);
* ``i1`` is a byte holding 0 or 1, so sign extension of ``true`` is ``-1``;
* f16/bf16 values are computed in float and rounded to their type after every
  op that produces one (``rnd_bf16``); for + - * / sqrt that double rounding
  is exact because float has more than twice their precision.
"""

from __future__ import annotations

import struct

from ..ttir import Unsupported
from .emit import BITS, UNSIGNED, ctype, flat, handles, is_float
from .libdevice import libdevice_call

_WRAP = {"arith.addi": "+", "arith.subi": "-", "arith.muli": "*"}
_BITWISE = {"arith.andi": "&", "arith.ori": "|", "arith.xori": "^"}
_GUARDED = {"arith.divsi": "divs", "arith.remsi": "rems", "arith.divui": "divu", "arith.remui": "remu",
            "arith.shli": "shl", "arith.shrui": "shru", "arith.shrsi": "shrs"}
_FLOAT = {"arith.addf": "({0} + {1})", "arith.subf": "({0} - {1})", "arith.mulf": "({0} * {1})",
          "arith.divf": "({0} / {1})", "tt.precise_divf": "({0} / {1})", "arith.negf": "(-{0})"}
#: float functions by the name of their float32 version; the double version drops the ``f``
_MATH = {"arith.remf": "fmodf", "arith.maxnumf": "fmaxf", "arith.minnumf": "fminf",
         "arith.maximumf": "maximumf", "arith.minimumf": "minimumf",
         "math.absf": "fabsf", "math.exp": "expf", "math.exp2": "exp2f", "math.log": "logf",
         "math.log2": "log2f", "math.log10": "log10f", "math.log1p": "log1pf", "math.expm1": "expm1f",
         "math.sin": "sinf", "math.cos": "cosf", "math.tan": "tanf", "math.tanh": "tanhf",
         "math.sqrt": "sqrtf", "tt.precise_sqrt": "sqrtf", "math.erf": "erff", "math.floor": "floorf",
         "math.ceil": "ceilf", "math.trunc": "truncf", "math.round": "roundf", "math.roundeven": "rintf",
         "math.fma": "fmaf", "math.copysign": "copysignf", "math.powf": "powf", "math.atan2": "atan2f",
         "math.atan": "atanf", "math.asin": "asinf", "math.acos": "acosf", "math.sinh": "sinhf",
         "math.cosh": "coshf", "math.cbrt": "cbrtf"}
_CMPI = {"eq": "==", "ne": "!=", "slt": "<", "sle": "<=", "sgt": ">", "sge": ">=",
         "ult": "<", "ule": "<=", "ugt": ">", "uge": ">="}
_CMPF = {"oeq": "({0} == {1})", "ogt": "({0} > {1})", "oge": "({0} >= {1})", "olt": "({0} < {1})",
         "ole": "({0} <= {1})", "one": "({0} < {1} || {0} > {1})", "ord": "({0} == {0} && {1} == {1})",
         "ueq": "!({0} < {1} || {0} > {1})", "ugt": "!({0} <= {1})", "uge": "!({0} < {1})",
         "ult": "!({0} >= {1})", "ule": "!({0} > {1})", "une": "({0} != {1})",
         "uno": "({0} != {0} || {1} != {1})", "false": "0", "true": "1"}


def _fn_name(f32_name: str, elem: str) -> str:
    """``expf`` for f32 (and the half types, computed in float), ``exp`` for f64; ``maximumf``/``maximumd``."""
    if elem != "f64":
        return f32_name
    return f32_name[:-1] + "d" if f32_name in ("maximumf", "minimumf") else f32_name[:-1]


def round_to(elem: str, expr: str) -> str:
    """Round a float expression to the precision of ``elem`` (nothing to do for f32/f64)."""
    return {"bf16": f"rnd_bf16({expr})", "f16": f"rnd_f16({expr})"}.get(elem, expr)


def _emit(em, op, make):
    """Assign ``make([operand exprs])`` elementwise, rounded to the result's half type when it has one."""
    r = op.results[0]
    em.assign(r, lambda i: round_to(r.type.elem, make([em.at(o, i) for o in op.operands])))


@handles(*_WRAP, *_BITWISE, *_GUARDED, "arith.minsi", "arith.maxsi", "arith.minui", "arith.maxui")
def integer_binary(em, op):
    t = op.results[0].type
    ct, bits = ctype(t.scalar()), BITS[t.elem]
    if t.elem == "i1" and op.name not in _BITWISE and op.name not in ("arith.minui", "arith.maxui"):
        # i1 arithmetic: + and - are xor, * is and; signed i1 is {0, -1}
        table = {"arith.addi": "^", "arith.subi": "^", "arith.muli": "&", "arith.minsi": "|", "arith.maxsi": "&"}
        if op.name not in table:
            raise Unsupported(f"{op.name} on i1")
        return _emit(em, op, lambda a: f"({a[0]} {table[op.name]} {a[1]})")
    ut = UNSIGNED[ct]
    if op.name in _WRAP:
        return _emit(em, op, lambda a: f"({ct})(({ut}){a[0]} {_WRAP[op.name]} ({ut}){a[1]})")
    if op.name in _BITWISE:
        return _emit(em, op, lambda a: f"({ct})({a[0]} {_BITWISE[op.name]} {a[1]})")
    if op.name in _GUARDED:
        return _emit(em, op, lambda a: f"{_GUARDED[op.name]}{bits}({a[0]}, {a[1]})")
    cast = f"({ut})" if op.name.endswith("ui") else ""
    cmp = "<" if "min" in op.name else ">"
    return _emit(em, op, lambda a: f"({cast}{a[0]} {cmp} {cast}{a[1]} ? {a[0]} : {a[1]})")


@handles(*_FLOAT)
def float_arith(em, op):
    _emit(em, op, lambda a: _FLOAT[op.name].format(*a))


@handles(*_MATH)
def float_function(em, op):
    fn = _fn_name(_MATH[op.name], op.results[0].type.elem)
    _emit(em, op, lambda a: f"{fn}({', '.join(a)})")


@handles("math.rsqrt")
def rsqrt(em, op):
    fn = _fn_name("sqrtf", op.results[0].type.elem)
    _emit(em, op, lambda a: f"(1 / {fn}({a[0]}))")


@handles("math.absi")
def absi(em, op):
    ct = ctype(op.results[0].type.scalar())
    _emit(em, op, lambda a: f"({a[0]} < 0 ? ({ct})(0 - ({UNSIGNED[ct]}){a[0]}) : {a[0]})")


@handles("tt.extern_elementwise")
def extern(em, op):
    call = libdevice_call(op.attrs.get("symbol", "?"), op)
    _emit(em, op, call)


@handles("arith.cmpi")
def cmpi(em, op):
    pred = op.words[0]
    ct = ctype(op.operands[0].type.scalar())
    cast = f"({UNSIGNED.get(ct, ct)})" if pred.startswith("u") else ""
    _emit(em, op, lambda a: f"({cast}{a[0]} {_CMPI[pred]} {cast}{a[1]})")


@handles("arith.cmpf")
def cmpf(em, op):
    _emit(em, op, lambda a: _CMPF[op.words[0]].format(*a))


@handles("arith.select")
def select(em, op):
    _emit(em, op, lambda a: f"({a[0]} ? {a[1]} : {a[2]})")


@handles("tt.clampf")
def clampf(em, op):
    fn = "maximum" if op.attrs.get("propagateNan", "none") not in ("none", 0) else "fmax"
    lo, hi = (f"{fn}f", f"{fn.replace('max', 'min')}f") if op.results[0].type.elem != "f64" else (
        f"{fn}d" if fn == "maximum" else "fmax", "minimumd" if fn == "maximum" else "fmin")
    _emit(em, op, lambda a: f"{hi}({lo}({a[0]}, {a[1]}), {a[2]})")


@handles("tt.mulhiui")
def mulhiui(em, op):
    bits = BITS[op.results[0].type.elem]
    if bits == 64:
        _emit(em, op, lambda a: f"(int64_t)(((unsigned __int128)(uint64_t){a[0]} * (uint64_t){a[1]}) >> 64)")
    else:
        _emit(em, op, lambda a: f"(int32_t)(((uint64_t)(uint32_t){a[0]} * (uint32_t){a[1]}) >> 32)")


@handles("arith.extf", "arith.truncf", "arith.sitofp", "arith.uitofp", "arith.fptosi", "arith.fptoui",
         "arith.extsi", "arith.extui", "arith.trunci", "tt.fp_to_fp")
def cast(em, op):
    src, dst = op.operands[0].type, op.results[0].type
    sct, dct = ctype(src.scalar()), ctype(dst.scalar())
    if op.name == "tt.fp_to_fp" and op.attrs.get("rounding", "rtne") != "rtne":
        raise Unsupported(f"tt.fp_to_fp rounding {op.attrs.get('rounding')}")
    if op.name == "arith.extsi" and src.elem == "i1":
        return _emit(em, op, lambda a: f"({dct})(-({dct}){a[0]})")
    if op.name in ("arith.extui", "arith.uitofp", "arith.fptoui"):
        # through the unsigned type: of the source (extend, int->float) or of the result (float->int)
        via = UNSIGNED[dct] if op.name == "arith.fptoui" else UNSIGNED[sct]
        return _emit(em, op, lambda a: f"({dct})({via}){a[0]}")
    if op.name == "arith.sitofp" and src.elem == "i1":
        return _emit(em, op, lambda a: f"({dct})(-(int32_t){a[0]})")
    if dst.elem == "i1":
        return _emit(em, op, lambda a: f"(uint8_t)({a[0]} & 1)" if not is_float(src) else f"(uint8_t)({a[0]} != 0)")
    if src.elem == "f64" and dst.elem in ("bf16", "f16"):
        return em.assign(op.results[0], lambda i: f"d_to_{dst.elem}f({em.at(op.operands[0], i)})")
    _emit(em, op, lambda a: f"({dct}){a[0]}")


@handles("tt.bitcast", "arith.bitcast")
def bitcast(em, op):
    src, dst = op.operands[0].type, op.results[0].type
    s, d = src.elem, dst.elem
    if s == "ptr" or d == "ptr":
        return em.assign(op.results[0], lambda i: f"({ctype(dst.scalar())}){em.at(op.operands[0], i)}")
    conv = {("f32", "i32"): "f32_bits({})", ("i32", "f32"): "bits_f32({})",
            ("f64", "i64"): "f64_bits({})", ("i64", "f64"): "bits_f64({})",
            ("bf16", "i16"): "(int16_t)f32_to_bf16({})", ("i16", "bf16"): "bf16_to_f32((uint16_t){})",
            ("f16", "i16"): "(int16_t)f32_to_f16({})", ("i16", "f16"): "f16_to_f32((uint16_t){})",
            ("bf16", "f16"): "f16_to_f32(f32_to_bf16({}))", ("f16", "bf16"): "bf16_to_f32(f32_to_f16({}))"}
    if s == d:
        return em.assign(op.results[0], lambda i: em.at(op.operands[0], i))
    if (s, d) not in conv:
        raise Unsupported(f"bitcast {s} -> {d}")
    em.assign(op.results[0], lambda i: conv[(s, d)].format(em.at(op.operands[0], i)))


@handles("tt.int_to_ptr", "tt.ptr_to_int")
def ptr_int(em, op):
    dst = ctype(op.results[0].type.scalar())
    em.assign(op.results[0], lambda i: f"({dst})(intptr_t){em.at(op.operands[0], i)}")


def literal(text: str, elem: str) -> str:
    """One scalar literal of type ``elem`` as a C expression (bit-exact for hex-printed floats)."""
    text = text.strip()
    if text in ("true", "false"):
        return "1" if text == "true" else "0"
    if elem not in ("f16", "bf16", "f32", "f64"):
        value = int(text, 0)
        return f"({ctype_of(elem)}){value & (2**64 - 1):#x}ULL" if elem != "i1" else str(value & 1)
    if text.startswith("0x"):
        bits = int(text, 16)
        return {"f32": f"bits_f32((int32_t){bits:#x}u)", "f64": f"bits_f64((int64_t){bits:#x}ull)",
                "bf16": f"bf16_to_f32({bits:#x})", "f16": f"f16_to_f32({bits:#x})"}[elem]
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        bits = struct.unpack("<Q", struct.pack("<d", value))[0]
        return f"(float)bits_f64((int64_t){bits:#x}ull)" if elem != "f64" else f"bits_f64((int64_t){bits:#x}ull)"
    return value.hex() + ("" if elem == "f64" else "f")


def ctype_of(elem: str) -> str:
    from .emit import CTYPE
    return CTYPE[elem]


@handles("arith.constant")
def constant(em, op):
    r = op.results[0]
    text = op.extra["literal"]
    if text.startswith("dense<"):
        text = text[len("dense<"):-1]
    if text.startswith('"'):
        raise Unsupported("arith.constant with a hex blob")
    if text.startswith("["):  # a non-splat constant block: a static table copied into the arena
        items = [x for x in text.replace("[", " ").replace("]", " ").split(",") if x.strip()]
        table = em.fresh("cst")
        em.globals.append(f"static const {ctype(r.type.scalar())} {table}[{len(items)}] = "
                          f"{{{', '.join(literal(x, r.type.elem) for x in items)}}};")
        return em.assign(r, lambda ix: f"{table}[{flat(ix, r.type.shape)}]", temp=False)
    value = literal(text, r.type.elem)
    em.assign(r, lambda i: value)


@handles("ub.poison")
def poison(em, op):
    em.assign(op.results[0], lambda i: "0")
