// AVX-512 GEMM packing for the 6x64 micro-kernel. The two common layouts need a transpose while
// packing (x·Wᵀ: A = x is [M,K] and B = W is [N,K]); a 16x16 in-register transpose moves 256 floats
// with 64 shuffles instead of 256 scalar strided copies.

/** In-place transpose of the 16x16 block r[i] = row i (lane j = column j). */
static inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  // 1) interleave 32-bit pairs of rows (2i, 2i+1) within each 128-bit lane
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // 2) interleave 64-bit pairs: u[4g+c] holds, in 128-bit lane L, column 4L+c of rows 4g..4g+3
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
    u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // 3) + 4) gather the four 128-bit quarters of each column from the four row groups
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);   // cols c, 8+c of rows 0-7
    const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);   // cols 4+c, 12+c of rows 0-7
    const __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
  }
}

/** pack_a_generic<MR> for AVX-512 (MR <= 16): dst [kc][MR]. */
template <int MR>
static void pack_a_avx512(float* __restrict dst, const float* __restrict A, bool ta, i64 M, i64 K,
                          i64 m0, int mr, i64 k0, int kc) {
  const __mmask16 row_mask = tail_mask(mr);
  const __mmask16 out_mask = tail_mask(MR);
  if (ta) {
    const float* src = A + k0 * M + m0;
    for (int k = 0; k < kc; ++k) _mm512_mask_storeu_ps(dst + k * MR, out_mask, _mm512_maskz_loadu_ps(row_mask, src + k * M));
    return;
  }
  const float* src = A + m0 * K + k0;
  for (int k = 0; k < kc; k += 16) {
    const int kk = kc - k < 16 ? kc - k : 16;
    const __mmask16 km = tail_mask(kk);
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = i < mr ? _mm512_maskz_loadu_ps(km, src + i * K + k) : _mm512_setzero_ps();
    transpose16(r);
    if (kk == 16) {
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) _mm512_mask_storeu_ps(dst + (k + c) * MR, out_mask, r[c]);
    } else {
      for (int c = 0; c < kk; ++c) _mm512_mask_storeu_ps(dst + (k + c) * MR, out_mask, r[c]);
    }
  }
}

/** pack_b_generic<NR> for AVX-512 (NR a multiple of 16): dst [K][NR] (64-byte aligned rows). */
template <int NR>
static void pack_b_avx512(float* __restrict dst, const float* __restrict B, bool tb, i64 N, i64 K,
                          i64 n0, int nr) {
  constexpr int NV = NR / 16;
  if (!tb) {
    __mmask16 m[NV];
    for (int h = 0; h < NV; ++h) {
      const int left = nr - 16 * h;
      m[h] = tail_mask(left <= 0 ? 0 : left < 16 ? left : 16);
    }
    const float* src = B + n0;
    for (i64 k = 0; k < K; ++k) {
#pragma GCC unroll 4
      for (int h = 0; h < NV; ++h) _mm512_store_ps(dst + k * NR + 16 * h, _mm512_maskz_loadu_ps(m[h], src + k * N + 16 * h));
    }
    return;
  }
  const float* src = B + n0 * K;
  for (i64 k = 0; k < K; k += 16) {
    const int kk = K - k < 16 ? static_cast<int>(K - k) : 16;
    const __mmask16 km = tail_mask(kk);
    for (int h = 0; h < NV; ++h) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        const int j = 16 * h + i;
        r[i] = j < nr ? _mm512_maskz_loadu_ps(km, src + j * K + k) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int c = 0; c < kk; ++c) _mm512_store_ps(dst + (k + c) * NR + 16 * h, r[c]);
    }
  }
}
