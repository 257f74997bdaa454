/* ext_codegen native prelude: the scalar helpers every generated kernel may call.
 *
 * Each helper pins down a Triton semantic that plain C leaves undefined or
 * different: half types held in float and rounded like the hardware
 * (round-to-nearest-even), NaN rules of maximumf/maxnumf, integer division
 * that never traps, shifts by the bit width or more.
 */
#include <stdint.h>

/* What the kernels need from <math.h>, <stdlib.h> and <string.h>, declared here: parsing those
 * headers took a third of the compile time of a small kernel. */
#define EXT_CODEGEN_MATH1(N) float N##f(float); double N(double);
#define EXT_CODEGEN_MATH2(N) float N##f(float, float); double N(double, double);
EXT_CODEGEN_MATH1(sqrt) EXT_CODEGEN_MATH1(fabs) EXT_CODEGEN_MATH1(floor) EXT_CODEGEN_MATH1(ceil) EXT_CODEGEN_MATH1(trunc) EXT_CODEGEN_MATH1(round)
EXT_CODEGEN_MATH1(rint) EXT_CODEGEN_MATH1(nearbyint) EXT_CODEGEN_MATH1(lgamma) EXT_CODEGEN_MATH1(tgamma) EXT_CODEGEN_MATH1(logb)
EXT_CODEGEN_MATH1(j0) EXT_CODEGEN_MATH1(j1) EXT_CODEGEN_MATH1(y0) EXT_CODEGEN_MATH1(y1)
EXT_CODEGEN_MATH2(fmod) EXT_CODEGEN_MATH2(remainder) EXT_CODEGEN_MATH2(fmin) EXT_CODEGEN_MATH2(fmax) EXT_CODEGEN_MATH2(copysign)
EXT_CODEGEN_MATH2(nextafter) EXT_CODEGEN_MATH2(fdim)
float fmaf(float, float, float); double fma(double, double, double);
float ldexpf(float, int); double ldexp(double, int); float scalbnf(float, int); double scalbn(double, int);
float jnf(int, float); double jn(int, double); float ynf(int, float); double yn(int, double);
int ilogbf(float); int ilogb(double); long long llrintf(float); long long llrint(double);
long long llroundf(float); long long llround(double);
void *aligned_alloc(unsigned long, unsigned long);
void free(void *);
#define memcpy __builtin_memcpy
/* the sign bit read from the bits: GCC 12 fails with an internal error ("unrecognizable insn") when it
 * vectorises __builtin_signbit of a float widened from bfloat16 (OpInfo signbit, bfloat16) */
#define signbit(x) _Generic((x), float: ext_signbitf, default: ext_signbitd)(x)
#define isinf __builtin_isinf
#define isfinite __builtin_isfinite
#define M_PI 3.14159265358979323846
#define M_2_SQRTPI 1.12837916709551257390
#define INFINITY __builtin_inf()
#define NAN __builtin_nan("")

/* Vector libm: with these declarations GCC vectorises a loop of expf/sinf/... calls into
 * glibc's libmvec (_ZGVeN16v_expf...; at most 4 ulp, documented by glibc), 10x or more
 * faster than one scalar call per element.  build.py turns off GCC's builtin sin/cos (which it
 * would merge into one sincosf call, a function libmvec lacks); `const` gives back what the
 * builtins knew: no side effects, so the calls vectorise and move out of loops.  Without
 * EXT_CODEGEN_VECTOR_LIBM the scalar glibc functions are called (under 1 ulp for the common ones). */
#ifdef EXT_CODEGEN_VECTOR_LIBM
#define EXT_CODEGEN_SIMD __attribute__((__simd__("notinbranch"), const))
#else
#define EXT_CODEGEN_SIMD
#endif
#define EXT_CODEGEN_VEC1(N) float N##f(float) EXT_CODEGEN_SIMD; double N(double) EXT_CODEGEN_SIMD;
#define EXT_CODEGEN_VEC2(N) float N##f(float, float) EXT_CODEGEN_SIMD; double N(double, double) EXT_CODEGEN_SIMD;
EXT_CODEGEN_VEC1(sin) EXT_CODEGEN_VEC1(cos) EXT_CODEGEN_VEC1(tan) EXT_CODEGEN_VEC1(exp) EXT_CODEGEN_VEC1(exp2) EXT_CODEGEN_VEC1(exp10)
EXT_CODEGEN_VEC1(expm1) EXT_CODEGEN_VEC1(log) EXT_CODEGEN_VEC1(log2) EXT_CODEGEN_VEC1(log10) EXT_CODEGEN_VEC1(log1p) EXT_CODEGEN_VEC1(sinh)
EXT_CODEGEN_VEC1(cosh) EXT_CODEGEN_VEC1(tanh) EXT_CODEGEN_VEC1(asin) EXT_CODEGEN_VEC1(acos) EXT_CODEGEN_VEC1(atan) EXT_CODEGEN_VEC1(asinh)
EXT_CODEGEN_VEC1(acosh) EXT_CODEGEN_VEC1(atanh) EXT_CODEGEN_VEC1(erf) EXT_CODEGEN_VEC1(erfc) EXT_CODEGEN_VEC1(cbrt)
EXT_CODEGEN_VEC2(atan2) EXT_CODEGEN_VEC2(pow) EXT_CODEGEN_VEC2(hypot)

/* bf16 and f16 values live in float registers; memory holds their 16 bits. */
static inline float bf16_to_f32(uint16_t b) { uint32_t u = (uint32_t)b << 16; float f; memcpy(&f, &u, 4); return f; }
static inline uint16_t f32_to_bf16(float f) {
    uint32_t u; memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  /* NaN stays a (quiet) NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                            /* round to nearest even */
    return (uint16_t)(u >> 16);
}
static inline float rnd_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }
static inline float f16_to_f32(uint16_t h) { _Float16 x; memcpy(&x, &h, 2); return (float)x; }
static inline uint16_t f32_to_f16(float f) { _Float16 x = (_Float16)f; uint16_t h; memcpy(&h, &x, 2); return h; }
static inline float rnd_f16(float f) { return (float)(_Float16)f; }
static inline float d_to_bf16f(double d) { return rnd_bf16((float)d); }
static inline float d_to_f16f(double d) { return (float)(_Float16)d; }

/* Bit casts between same-width types. */
static inline int32_t f32_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }
static inline float bits_f32(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int64_t f64_bits(double f) { int64_t i; memcpy(&i, &f, 8); return i; }
static inline double bits_f64(int64_t i) { double f; memcpy(&f, &i, 8); return f; }
static inline int ext_signbitf(float x) { return f32_bits(x) < 0; }
static inline int ext_signbitd(double x) { return f64_bits(x) < 0; }

/* maximumf/minimumf (LLVM): NaN if either is NaN; -0 < +0.  maxnumf/minnumf: the non-NaN one (fmax). */
#define EXT_CODEGEN_MAXMIN(T, SUF)                                                                      \
    static inline T maximum##SUF(T a, T b) {                                                      \
        if (a != a) return a; if (b != b) return b;                                               \
        if (a == b) return signbit(a) ? b : a;                                                    \
        return a > b ? a : b; }                                                                   \
    static inline T minimum##SUF(T a, T b) {                                                      \
        if (a != a) return a; if (b != b) return b;                                               \
        if (a == b) return signbit(a) ? a : b;                                                    \
        return a < b ? a : b; }
EXT_CODEGEN_MAXMIN(float, f)
EXT_CODEGEN_MAXMIN(double, d)

/* Integer division and remainder that never trap: x/0 -> 0 and x%0 -> 0 (what Triton's
 * interpreter computes), INT_MIN/-1 wraps to INT_MIN and INT_MIN%-1 is 0. */
#define EXT_CODEGEN_DIV(T, UT, W)                                                                       \
    static inline T divs##W(T a, T b) { if (b == 0) return 0; if (b == -1) return (T)(0 - (UT)a); return a / b; } \
    static inline T rems##W(T a, T b) { if (b == 0 || b == -1) return 0; return a % b; }          \
    static inline T divu##W(T a, T b) { if (b == 0) return 0; return (T)((UT)a / (UT)b); }        \
    static inline T remu##W(T a, T b) { if (b == 0) return 0; return (T)((UT)a % (UT)b); }        \
    static inline T shl##W(T a, T b) { return (UT)b >= W ? 0 : (T)((UT)a << (UT)b); }              \
    static inline T shru##W(T a, T b) { return (UT)b >= W ? 0 : (T)((UT)a >> (UT)b); }             \
    static inline T shrs##W(T a, T b) { return a >> ((UT)b >= W ? W - 1 : (UT)b); }
EXT_CODEGEN_DIV(int8_t, uint8_t, 8)
EXT_CODEGEN_DIV(int16_t, uint16_t, 16)
EXT_CODEGEN_DIV(int32_t, uint32_t, 32)
EXT_CODEGEN_DIV(int64_t, uint64_t, 64)

/* Atomic read-modify-write ops GCC has no builtin for, as compare-and-swap loops. */
#define EXT_CODEGEN_CAS_OP(NAME, T, BITS_T, EXPR)                                                       \
    static inline T NAME(T *p, T v, int order) {                                                  \
        BITS_T old_bits = __atomic_load_n((BITS_T *)p, __ATOMIC_RELAXED), new_bits; T old, nv;    \
        do { memcpy(&old, &old_bits, sizeof(T)); nv = (EXPR); memcpy(&new_bits, &nv, sizeof(T)); } \
        while (!__atomic_compare_exchange_n((BITS_T *)p, &old_bits, new_bits, 0, order, __ATOMIC_RELAXED)); \
        return old; }
EXT_CODEGEN_CAS_OP(atomic_fadd_f32, float, uint32_t, old + v)
EXT_CODEGEN_CAS_OP(atomic_fadd_f64, double, uint64_t, old + v)
EXT_CODEGEN_CAS_OP(atomic_max_i32, int32_t, uint32_t, old > v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_min_i32, int32_t, uint32_t, old < v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_max_i64, int64_t, uint64_t, old > v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_min_i64, int64_t, uint64_t, old < v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_umax_i32, int32_t, uint32_t, (uint32_t)old > (uint32_t)v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_umin_i32, int32_t, uint32_t, (uint32_t)old < (uint32_t)v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_umax_i64, int64_t, uint64_t, (uint64_t)old > (uint64_t)v ? old : v)
EXT_CODEGEN_CAS_OP(atomic_umin_i64, int64_t, uint64_t, (uint64_t)old < (uint64_t)v ? old : v)
/* 16-bit floats: add in float, round, store the bits. */
static inline float atomic_fadd_bf16(uint16_t *p, float v, int order) {
    uint16_t o = __atomic_load_n(p, __ATOMIC_RELAXED), n;
    do { n = f32_to_bf16(bf16_to_f32(o) + v); } while (!__atomic_compare_exchange_n(p, &o, n, 0, order, __ATOMIC_RELAXED));
    return bf16_to_f32(o); }
static inline float atomic_fadd_f16(uint16_t *p, float v, int order) {
    uint16_t o = __atomic_load_n(p, __ATOMIC_RELAXED), n;
    do { n = f32_to_f16(f16_to_f32(o) + v); } while (!__atomic_compare_exchange_n(p, &o, n, 0, order, __ATOMIC_RELAXED));
    return f16_to_f32(o); }

/* libdevice functions C99 lacks, computed in double (the float variants round once at the end).
 * erfinv: a start good to about 0.2% (Winitzki's closed form), then Newton's method on erf(x) = y,
 * or on erfc(x) = 1 - |y| in the tails, where 1 - |y| is exact and erf has no digits left. */
static double ext_erfinv(double y) {
    if (!(y > -1.0 && y < 1.0)) return y == 1.0 ? INFINITY : y == -1.0 ? -INFINITY : NAN;
    double a = fabs(y), l = log1p(-a * a), b = 2.0 / (M_PI * 0.147) + 0.5 * l;
    double x = sqrt(sqrt(b * b - l / 0.147) - b);
    for (int k = 0; k < 4; k++) {
        double slope = M_2_SQRTPI * exp(-x * x);
        if (slope == 0.0) break;
        x -= (a < 0.5 ? erf(x) - a : (1.0 - a) - erfc(x)) / slope;
    }
    return copysign(x, y);
}
/* erfcx(x) = exp(x*x) * erfc(x); past x = 26, where exp(x*x) would near the double range, the
 * asymptotic series 1 / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + ...), six terms:
 * the first left out is below 2e-15 there. */
static double ext_erfcx(double x) {
    if (x < 26.0) return exp(x * x) * erfc(x);
    double r = 1.0 / (x * x);
    return (1.0 - r * (0.5 - r * (0.75 - r * (1.875 - r * (6.5625 - r * 29.53125))))) / (x * 1.7724538509055160273);
}
/* The modified Bessel functions I0 and I1 by their power series in (x/2)^2: every term positive
 * (I1: of x's sign), so the sum loses no digits; it stops when a term no longer changes the sum. */
static double ext_bessel_i0(double x) {
    double q = 0.25 * x * x, term = 1.0, sum = 1.0;
    for (int k = 1; k < 4000 && term > sum * 1e-17; k++) { term *= q / ((double)k * k); sum += term; }
    return sum;
}
static double ext_bessel_i1(double x) {
    double q = 0.25 * x * x, term = 0.5 * x, sum = term;
    for (int k = 1; k < 4000 && fabs(term) > fabs(sum) * 1e-17; k++) { term *= q / ((double)k * (k + 1)); sum += term; }
    return sum;
}
