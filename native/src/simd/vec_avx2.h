// AVX2 + FMA vector primitives (8 floats); same vocabulary as vec_avx512.h (see there).

constexpr int W = 8;
using vf = __m256;

static inline __m256i tail_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline vf vzero() { return _mm256_setzero_ps(); }
static inline vf vset1(float a) { return _mm256_set1_ps(a); }
static inline vf vload(const float* p) { return _mm256_loadu_ps(p); }
static inline void vstore(float* p, vf v) { _mm256_storeu_ps(p, v); }
/** Loads n < W floats; the other lanes hold fill. maskload never faults on masked-off lanes. */
static inline vf vload_n(const float* p, int64_t n, float fill) {
  const __m256i m = tail_mask(n);
  return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
static inline void vstore_n(float* p, vf v, int64_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
static inline vf vkeep_n(vf v, int64_t n) { return _mm256_and_ps(v, _mm256_castsi256_ps(tail_mask(n))); }

static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
/** a / b within a few ulp for finite b != 0: 12-bit reciprocal estimate + one Newton step. */
static inline vf vdiv_fast(vf a, vf b) {
  vf r = _mm256_rcp_ps(b);
  r = _mm256_mul_ps(r, _mm256_fnmadd_ps(b, r, _mm256_set1_ps(2.0f)));
  return _mm256_mul_ps(a, r);
}
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vsqrt(vf a) { return _mm256_sqrt_ps(a); }
static inline vf vselect_gt(vf a, vf b, vf x, vf y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
/** Segmented max / sum over aligned groups of G = 1, 2, 4 or 8 lanes (see vec_avx512.h). */
static inline vf vseg_max(vf v, int64_t G) {
  if (G >= 2) v = _mm256_max_ps(v, _mm256_permute_ps(v, 0xB1));
  if (G >= 4) v = _mm256_max_ps(v, _mm256_permute_ps(v, 0x4E));
  if (G >= 8) v = _mm256_max_ps(v, _mm256_permute2f128_ps(v, v, 0x01));
  return v;
}
static inline vf vseg_sum(vf v, int64_t G) {
  if (G >= 2) v = _mm256_add_ps(v, _mm256_permute_ps(v, 0xB1));
  if (G >= 4) v = _mm256_add_ps(v, _mm256_permute_ps(v, 0x4E));
  if (G >= 8) v = _mm256_add_ps(v, _mm256_permute2f128_ps(v, v, 0x01));
  return v;
}
static inline float vsum(vf a) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}
static inline float vmaxr(vf a) {
  const __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 t = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(t, _mm_shuffle_ps(t, t, 1)));
}

/**
 * e^x with the same reduction and polynomial as the AVX-512 path; 2^n is built in the exponent
 * field, so x is clamped to where that is valid and the ends are patched to 0 and +inf.
 */
static inline vf vexp(vf x0) {
  const vf lo = _mm256_set1_ps(-87.3365447505531f), hi = _mm256_set1_ps(88.3762626647949f);
  const vf x = _mm256_min_ps(hi, _mm256_max_ps(lo, x0));
  const vf n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  vf p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const vf r2 = _mm256_mul_ps(r, r);
  const vf y = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // The clamp keeps n in [-126, 127], where 2^n is a normal float built from its exponent bits.
  // (So e^x for x in (88.376, 88.723], still finite in float, reads as +inf here: harmless for the
  // max-shifted softmax and guarded Mish that use this.)
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  vf out = _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  out = _mm256_blendv_ps(out, _mm256_setzero_ps(), _mm256_cmp_ps(x0, lo, _CMP_LT_OQ));
  out = _mm256_blendv_ps(out, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x0, hi, _CMP_GT_OQ));
  return out;
}
