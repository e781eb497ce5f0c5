// AVX-512 vector primitives (16 floats). Included by isa_avx512.cc inside an anonymous namespace,
// after `#pragma GCC target(avx512...)`; the generic kernels in kernels/ are written against this
// small vocabulary (vf, W, vload, vfma, vexp, ...), which vec_avx2.h and vec_scalar.h also provide.

constexpr int W = 16;
using vf = __m512;

static inline __mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

static inline vf vzero() { return _mm512_setzero_ps(); }
static inline vf vset1(float a) { return _mm512_set1_ps(a); }
static inline vf vload(const float* p) { return _mm512_loadu_ps(p); }
static inline void vstore(float* p, vf v) { _mm512_storeu_ps(p, v); }
/** Loads n < W floats; the other lanes hold fill. Never touches memory past p + n. */
static inline vf vload_n(const float* p, int64_t n, float fill) {
  return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail_mask(n), p);
}
/** Stores the first n < W lanes. */
static inline void vstore_n(float* p, vf v, int64_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
/** Keeps the first n < W lanes and zeroes the rest. */
static inline vf vkeep_n(vf v, int64_t n) { return _mm512_maskz_mov_ps(tail_mask(n), v); }

static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
/** a / b within ~2 ulp for finite b != 0: 14-bit reciprocal estimate + one Newton step (the divider
 * is one slow port; Mish is in every hidden layer). */
static inline vf vdiv_fast(vf a, vf b) {
  vf r = _mm512_rcp14_ps(b);
  r = _mm512_mul_ps(r, _mm512_fnmadd_ps(b, r, _mm512_set1_ps(2.0f)));
  return _mm512_mul_ps(a, r);
}
/** a * b + c, fused. */
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm512_sqrt_ps(a); }
/** a > b ? x : y per lane (false for NaN). */
static inline vf vselect_gt(vf a, vf b, vf x, vf y) {
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x);
}
/**
 * Segmented reductions over aligned groups of G lanes (G = 1, 2, 4, 8 or 16): every lane gets its
 * group's max / sum, the same value in every lane of a group (a symmetric butterfly). SimNorm uses
 * them to softmax W/G groups per instruction instead of one group at a time.
 */
static inline vf vseg_max(vf v, int64_t G) {
  if (G >= 2) v = _mm512_max_ps(v, _mm512_permute_ps(v, 0xB1));         // swap neighbours
  if (G >= 4) v = _mm512_max_ps(v, _mm512_permute_ps(v, 0x4E));         // swap pairs
  if (G >= 8) v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));   // swap 128-bit blocks
  if (G >= 16) v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));  // swap 256-bit halves
  return v;
}
static inline vf vseg_sum(vf v, int64_t G) {
  if (G >= 2) v = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));
  if (G >= 4) v = _mm512_add_ps(v, _mm512_permute_ps(v, 0x4E));
  if (G >= 8) v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
  if (G >= 16) v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
  return v;
}

/** Horizontal sum in a fixed tree order (deterministic). */
static inline float vsum(vf a) { return _mm512_reduce_add_ps(a); }
static inline float vmaxr(vf a) { return _mm512_reduce_max_ps(a); }

/**
 * e^x, ~1 ulp: n = round(x·log2 e), r = x - n·ln 2 (two-part constant), e^r by Cephes' degree-6
 * polynomial, then scalef multiplies by 2^n with correct overflow to +inf and underflow to 0, so
 * only the clamp that keeps n in range is needed. NaN propagates (max/min return their second
 * operand when one is NaN, and x is passed second).
 */
static inline vf vexp(vf x) {
  x = _mm512_min_ps(_mm512_set1_ps(128.0f), _mm512_max_ps(_mm512_set1_ps(-150.0f), x));
  const vf n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  vf p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const vf r2 = _mm512_mul_ps(r, r);
  const vf y = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}
