// Portable "vector" of one float: the same vocabulary as vec_avx512.h, so the generic kernels
// compile unchanged for CPUs without AVX2 (and for TDMPC_SIMD=scalar in tests).

constexpr int W = 1;
using vf = float;

static inline vf vzero() { return 0.0f; }
static inline vf vset1(float a) { return a; }
static inline vf vload(const float* p) { return *p; }
static inline void vstore(float* p, vf v) { *p = v; }
// With W = 1 a tail has no lanes; these exist so the generic code compiles.
static inline vf vload_n(const float*, int64_t, float fill) { return fill; }
static inline void vstore_n(float*, vf, int64_t) {}
static inline vf vkeep_n(vf, int64_t) { return 0.0f; }

static inline vf vadd(vf a, vf b) { return a + b; }
static inline vf vsub(vf a, vf b) { return a - b; }
static inline vf vmul(vf a, vf b) { return a * b; }
static inline vf vdiv(vf a, vf b) { return a / b; }
static inline vf vdiv_fast(vf a, vf b) { return a / b; }
static inline vf vfma(vf a, vf b, vf c) { return a * b + c; }
// Same NaN rule as the SIMD max/min: the second operand wins when either is NaN.
static inline vf vmax(vf a, vf b) { return a > b ? a : b; }
static inline vf vmin(vf a, vf b) { return a < b ? a : b; }
static inline vf vsqrt(vf a) { return std::sqrt(a); }
static inline vf vselect_gt(vf a, vf b, vf x, vf y) { return a > b ? x : y; }
// Groups of G = 1 lane only (the row-wise code checks W % G == 0 before using these).
static inline vf vseg_max(vf v, int64_t) { return v; }
static inline vf vseg_sum(vf v, int64_t) { return v; }
static inline float vsum(vf a) { return a; }
static inline float vmaxr(vf a) { return a; }
static inline vf vexp(vf x) { return std::exp(x); }
