// GEMM micro-kernel, generic over the vector width W (vec_*.h): an MR x NR block of C kept in
// MR·NR/W registers while k runs over MR rows of op(A) (packed [kc][MR], or row-major A read in
// place) and a packed B panel [kc][NR].
// Per k: NR/W loads of B, MR broadcasts of A, MR·NR/W FMAs. With AVX-512, MR=6 and NR=64 use 24 of
// the 32 zmm registers with one broadcast per 4 FMAs (12x32, one per 2 FMAs, measured 10-25% slower
// on the Ice Lake VMs here: the broadcasts, not the FMAs, were the bottleneck).
//
// The caller picks how the block meets C (StoreMode), which is what fuses bias and accumulation
// into the GEMM: the first K block writes acc (+ bias) (+ old C), later blocks add.

enum StoreMode { kStore = 0, kStoreAdd = 1, kAdd = 2 };

template <int MR, int NR>
static inline void gemm_micro(int kc,
                              const float* __restrict a,  // op(A) rows: element (r, k) at a[r·ars + k·aks]
                              i64 ars, i64 aks,           // packed [kc][MR]: 1, MR; row-major A: lda, 1
                              const float* __restrict b,  // [kc][NR] packed op(B) columns
                              float* c, i64 ldc,          // C block [mr][nr], row stride ldc
                              int mr, int nr,             // live rows/columns (<= MR, NR)
                              const float* bias,          // [nr] or null (used unless mode == kAdd)
                              int mode) {
  constexpr int NV = NR / W;
  vf acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
  }
  // Rows past mr read row mr-1 again (never out of bounds); the edge store below drops them.
  const float* arow[MR];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) arow[r] = a + (r < mr ? r : mr - 1) * ars;
  // Unrolled 4x: the loop's own instructions (pointer adds, compare-and-branch) drop from 3 per k
  // to 3 per 4 k. The FMA units are never the limit on these VMs' shared cores; the instruction
  // issue slots are (a neighbour on the same core takes up to half of them: the FMA-only peak loop
  // issues ~1.04 instructions per FMA and keeps its speed, this loop issues ~1.45 and does not).
  // Measured +5-8% on the bench shapes at 1 and 2 threads.
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k) {
    vf bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = vload(b + v * W);
    const i64 ak = k * aks;
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const vf av = vset1(arow[r][ak]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
    }
    b += NR;
  }
  const bool add_bias = bias != nullptr && mode != kAdd;
  if (mr == MR && nr == NR) {
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      float* cr = c + r * ldc;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        vf x = acc[r][v];
        if (add_bias) x = vadd(x, vload(bias + v * W));
        if (mode != kStore) x = vadd(vload(cr + v * W), x);
        vstore(cr + v * W, x);
      }
    }
    return;
  }
  // Edge block: spill, then the same additions element by element (so an element's value does not
  // depend on whether its block was full, which keeps results independent of the tiling).
  alignas(64) float tmp[MR * NR];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) vstore(tmp + r * NR + v * W, acc[r][v]);
  }
  for (int r = 0; r < mr; ++r) {
    float* cr = c + r * ldc;
    for (int j = 0; j < nr; ++j) {
      float x = tmp[r * NR + j];
      if (add_bias) x = x + bias[j];
      if (mode != kStore) x = cr[j] + x;
      cr[j] = x;
    }
  }
}
