"""``tt.extern_elementwise`` calls to CUDA's libdevice (``__nv_*``), mapped to the C library.

Inductor writes ``libdevice.tanh(x)`` and the plugin's front end resolves it
through CUDA's libdevice declarations, so the IR names ``__nv_tanhf``.  Most
libdevice functions are named like their C99 ``<math.h>`` counterparts
(``__nv_X`` is the double ``X``, ``__nv_Xf`` the float ``Xf``), so one list
covers them; the rest are spelled out in :data:`SPECIAL`.  glibc's libm is
accurate to a few ulp, like libdevice; results can differ from the
interpreter's (which calls PyTorch) in the last bits, never more.

Mapped: the :data:`LIBM` names (float and double), :data:`SPECIAL`, and
``__nv_fast_*`` (to the accurate function).  Four functions C99 lacks
(``erfinv``, ``erfcx``, ``cyl_bessel_i0``, ``cyl_bessel_i1``) are the
prelude's own, computed in double and rounded once for the float variants.
Anything else raises :class:`~ext_codegen.triton_backend.native.ttir.Unsupported`
(directed-rounding ``_rd``/``_ru``/``_rz`` variants, ``__nv_byte_perm``...), and
so do the double Bessel functions of :data:`EAGER_ONLY`, on purpose.
"""

from __future__ import annotations

from ..ttir import Unsupported

#: C99 functions whose libdevice names match (``__nv_exp`` = ``exp``, ``__nv_expf`` = ``expf``)
LIBM = {
    "exp", "exp2", "exp10", "expm1", "log", "log2", "log10", "log1p", "logb", "sqrt", "cbrt",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "erf", "erfc", "lgamma", "tgamma", "pow", "fmod", "remainder", "floor", "ceil", "trunc", "round",
    "rint", "nearbyint", "fabs", "fmin", "fmax", "copysign", "hypot", "nextafter", "fdim", "fma",
    "j0", "j1", "y0", "y1", "ldexp", "scalbn", "jn", "yn", "ilogb", "llrint", "llround",
}

#: special cases: libdevice name -> format string over the arguments ``{0}``, ``{1}``...
SPECIAL = {
    "isinff": "(isinf({0}) != 0)", "isinfd": "(isinf({0}) != 0)",
    "isnanf": "({0} != {0})", "isnand": "({0} != {0})",
    "finitef": "(isfinite({0}) != 0)", "isfinited": "(isfinite({0}) != 0)",
    "signbitf": "(signbit({0}) != 0)", "signbitd": "(signbit({0}) != 0)",
    "rsqrtf": "(1.0f / sqrtf({0}))", "rsqrt": "(1.0 / sqrt({0}))", "frsqrt_rn": "(1.0f / sqrtf({0}))",
    "rcbrtf": "(1.0f / cbrtf({0}))", "rcbrt": "(1.0 / cbrt({0}))",
    "powif": "powf({0}, (float){1})", "powi": "pow({0}, (double){1})",
    "saturatef": "fminf(fmaxf({0}, 0.0f), 1.0f)",
    "normcdff": "(0.5f * erfcf(-{0} * 0.70710678118654752f))", "normcdf": "(0.5 * erfc(-{0} * 0.70710678118654752))",
    "sinpif": "sinf((float)M_PI * {0})", "cospif": "cosf((float)M_PI * {0})",
    "sinpi": "sin(M_PI * {0})", "cospi": "cos(M_PI * {0})",
    "abs": "({0} < 0 ? (int32_t)(0u - (uint32_t){0}) : {0})",
    "llabs": "({0} < 0 ? (int64_t)(0ull - (uint64_t){0}) : {0})",
    "popc": "__builtin_popcount((uint32_t){0})", "popcll": "__builtin_popcountll((uint64_t){0})",
    "clz": "({0} == 0 ? 32 : __builtin_clz((uint32_t){0}))",
    "clzll": "({0} == 0 ? 64 : __builtin_clzll((uint64_t){0}))",
    "ffs": "__builtin_ffs({0})", "ffsll": "__builtin_ffsll({0})",
    "umulhi": "(int32_t)(((uint64_t)(uint32_t){0} * (uint32_t){1}) >> 32)",
    "mulhi": "(int32_t)(((int64_t){0} * (int64_t){1}) >> 32)",
    "umul64hi": "(int64_t)(((unsigned __int128)(uint64_t){0} * (uint64_t){1}) >> 64)",
    "mul64hi": "(int64_t)(((__int128){0} * (__int128){1}) >> 64)",
    "float_as_int": "f32_bits({0})", "int_as_float": "bits_f32({0})",
    "float_as_uint": "f32_bits({0})", "uint_as_float": "bits_f32({0})",
    "double_as_longlong": "f64_bits({0})", "longlong_as_double": "bits_f64({0})",
    "fast_fdividef": "({0} / {1})", "fdiv_rn": "({0} / {1})", "ddiv_rn": "({0} / {1})",
    "fadd_rn": "({0} + {1})", "dadd_rn": "({0} + {1})", "fsub_rn": "({0} - {1})", "dsub_rn": "({0} - {1})",
    "fmul_rn": "({0} * {1})", "dmul_rn": "({0} * {1})", "fsqrt_rn": "sqrtf({0})", "dsqrt_rn": "sqrt({0})",
    "frcp_rn": "(1.0f / {0})", "drcp_rn": "(1.0 / {0})", "fmaf_rn": "fmaf({0}, {1}, {2})",
    "fma_rn": "fma({0}, {1}, {2})",
    "double2float_rn": "(float){0}", "int2float_rn": "(float){0}", "int2double_rn": "(double){0}",
    "ll2float_rn": "(float){0}", "ll2double_rn": "(double){0}",
    "uint2float_rn": "(float)(uint32_t){0}", "uint2double_rn": "(double)(uint32_t){0}",
    "ull2float_rn": "(float)(uint64_t){0}", "ull2double_rn": "(double)(uint64_t){0}",
    "float2int_rz": "(int32_t){0}", "float2ll_rz": "(int64_t){0}", "double2int_rz": "(int32_t){0}",
    "double2ll_rz": "(int64_t){0}", "llrintf": "llrintf({0})", "llroundf": "llroundf({0})",
    # not in C99: the prelude's, in double, so the float variants round once
    "erfinvf": "(float)ext_erfinv((double){0})", "erfinv": "ext_erfinv({0})",
    "erfcxf": "(float)ext_erfcx((double){0})", "erfcx": "ext_erfcx({0})",
    "cyl_bessel_i0f": "(float)ext_bessel_i0((double){0})", "cyl_bessel_i0": "ext_bessel_i0({0})",
    "cyl_bessel_i1f": "(float)ext_bessel_i1((double){0})", "cyl_bessel_i1": "ext_bessel_i1({0})",
}


#: double-precision Bessel functions of the first and second kind: PyTorch computes them with its own
#: approximation, up to 2e-5 relative away from the true value near a zero, where glibc's are within an
#: ulp; the native result would be the better one and still differ from eager (and from stock C++
#: Inductor, which calls PyTorch's), so these kernels go to the interpreter, which computes them as eager
EAGER_ONLY = {"j0", "j1", "y0", "y1"}


def libdevice_call(symbol: str, op):
    """A function from the argument expressions to the call's C expression."""
    name = symbol[len("__nv_"):] if symbol.startswith("__nv_") else symbol
    if name in EAGER_ONLY:
        raise Unsupported(f"tt.extern_elementwise {symbol} (PyTorch's own approximation, computed as eager does)")
    if name.startswith("fast_") and name != "fast_fdividef":
        name = name[len("fast_"):]
    if name in SPECIAL:
        fmt = SPECIAL[name]
        return lambda args: fmt.format(*args)
    base = name[:-1] if name.endswith("f") and name[:-1] in LIBM else name
    if base in LIBM:
        return lambda args: f"{name}({', '.join(args)})"
    raise Unsupported(f"tt.extern_elementwise {symbol}")
