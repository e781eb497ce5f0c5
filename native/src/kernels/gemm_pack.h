// Portable GEMM packing (the AVX-512 path replaces these with in-register transposes, see
// simd/gemm_pack_avx512.h). Packing copies op(A) and op(B) into the exact order the micro-kernel
// reads them, which is what makes the four transpose variants equally fast: the transpose is paid
// once per element while packing instead of on every strided load.

/** dst [kc][MR] = rows m0..m0+mr of op(A), columns k0..k0+kc; rows past mr are zero. */
template <int MR>
static void pack_a_generic(float* __restrict dst, const float* __restrict A, bool ta, i64 M, i64 K,
                           i64 m0, int mr, i64 k0, int kc) {
  if (ta) {  // A stored [K,M]: the MR values of one k are contiguous.
    for (int k = 0; k < kc; ++k) {
      const float* src = A + (k0 + k) * M + m0;
      for (int r = 0; r < mr; ++r) dst[k * MR + r] = src[r];
      for (int r = mr; r < MR; ++r) dst[k * MR + r] = 0.0f;
    }
  } else {  // A stored [M,K]: walk each row along k.
    for (int r = 0; r < mr; ++r) {
      const float* src = A + (m0 + r) * K + k0;
      for (int k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
    }
    for (int r = mr; r < MR; ++r) {
      for (int k = 0; k < kc; ++k) dst[k * MR + r] = 0.0f;
    }
  }
}

/** dst [K][NR] = columns n0..n0+nr of op(B), all K rows; columns past nr are zero. */
template <int NR>
static void pack_b_generic(float* __restrict dst, const float* __restrict B, bool tb, i64 N, i64 K,
                           i64 n0, int nr) {
  if (tb) {  // B stored [N,K]: column j of op(B) is row n0+j of B.
    for (int j = 0; j < nr; ++j) {
      const float* src = B + (n0 + j) * K;
      for (i64 k = 0; k < K; ++k) dst[k * NR + j] = src[k];
    }
    for (int j = nr; j < NR; ++j) {
      for (i64 k = 0; k < K; ++k) dst[k * NR + j] = 0.0f;
    }
  } else {  // B stored [K,N]: each k is a contiguous run of nr floats.
    for (i64 k = 0; k < K; ++k) {
      const float* src = B + k * N + n0;
      for (int j = 0; j < nr; ++j) dst[k * NR + j] = src[j];
      for (int j = nr; j < NR; ++j) dst[k * NR + j] = 0.0f;
    }
  }
}
