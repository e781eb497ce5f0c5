// The kernel table: one instance per SIMD path (isa_avx512.cc, isa_avx2.cc, isa_scalar.cc compile
// the same generic kernels in kernels/ against their own vector primitives). The binding validates
// every argument first (see binding/), so kernels assume in-bounds pointers and valid sizes.
// Semantics are those of src/engine/engine.ts; outputs come first in each shape list below.
#pragma once

#include <cstdint>

namespace tdmpc {

struct Context;
using i64 = int64_t;

/** C [M,N] (=|+=) op(A) [M,K] · op(B) [K,N] (+ bias [N]). A is [K,M] when ta, B is [N,K] when tb. */
struct GemmArgs {
  bool ta, tb;
  i64 M, N, K;
  const float* A;
  const float* B;
  float* C;
  const float* bias;  // [N] or null
  bool accumulate;
};

/** Both directions of the fused NormedLinear (engine.ts normedLinearForward/Backward). */
struct NormedLinearArgs {
  i64 R, in, out;
  int act;  // 0 none, 1 mish, 2 simnorm
  i64 group;
  const float* x;      // [R,in]
  const float* W;      // [out,in]
  const float* b;      // [out] (forward only)
  const float* gamma;  // [out]
  const float* beta;   // [out]
  const float* mask;   // [R,out] or null
  float* lin;          // [R,out] forward output, backward input
  float* mean;         // [R]
  float* rstd;         // [R]
  float* y;            // [R,out] the layer output ("out" in engine.ts)
  // backward only
  const float* dy;     // [R,out] ("dout")
  float* dx;           // [R,in] or null
  float* dW;           // [out,in]
  float* db;           // [out]
  float* dgamma;       // [out]
  float* dbeta;        // [out]
  float* scratch;      // [R,out] overwritten with the gradient of x·Wᵀ + b
};

struct AdamArgs {
  i64 n;
  float* params;
  const float* grads;
  float* m;
  float* v;
  double lr, beta1, beta2, eps, weight_decay, grad_scale;
  bool decoupled;
  double bias_correction1, bias_correction2;  // 1 - beta1^step, 1 - beta2^step
};

struct KernelTable {
  const char* name;
  // Kernels returning bool return false only when growing a scratch buffer failed (out of memory).
  bool (*gemm)(Context&, const GemmArgs&);
  bool (*normed_linear_forward)(Context&, const NormedLinearArgs&);
  bool (*normed_linear_backward)(Context&, const NormedLinearArgs&);

  void (*mish_forward)(Context&, i64 n, const float* x, float* y);
  void (*mish_backward)(Context&, i64 n, const float* x, const float* dy, float* dx);
  void (*tanh_forward)(Context&, i64 n, const float* x, float* y);
  void (*tanh_backward)(Context&, i64 n, const float* y, const float* dy, float* dx);
  void (*softplus_forward)(Context&, i64 n, const float* x, float* y);
  void (*softplus_backward)(Context&, i64 n, const float* x, const float* dy, float* dx);

  void (*simnorm_forward)(Context&, i64 R, i64 D, i64 G, const float* x, float* y);
  void (*simnorm_backward)(Context&, i64 R, i64 D, i64 G, const float* y, const float* dy, float* dx);
  void (*softmax_forward)(Context&, i64 R, i64 D, const float* x, float* y);
  void (*log_softmax_forward)(Context&, i64 R, i64 D, const float* x, float* y);

  void (*two_hot_encode)(Context&, i64 n, i64 NB, double vmin, double vmax, const float* x, float* target);
  void (*two_hot_decode)(Context&, i64 R, i64 NB, double vmin, double vmax, const float* logits, float* out);
  void (*soft_ce_forward)(Context&, i64 R, i64 NB, const float* logits, const float* target, float* loss);
  void (*soft_ce_backward)(Context&, i64 R, i64 NB, const float* logits, const float* target,
                           const float* dloss, float* dlogits);

  void (*kl_forward)(Context&, i64 n, const float* mu1, const float* ls1, const float* mu2, const float* ls2,
                     float* out);
  void (*kl_backward)(Context&, i64 n, const float* mu1, const float* ls1, const float* mu2, const float* ls2,
                      const float* dout, float* dmu1, float* dls1, float* dmu2, float* dls2);

  double (*sum)(Context&, i64 n, const float* x);
  double (*sum_squares)(Context&, i64 n, const float* x);
  bool (*sum_rows)(Context&, i64 R, i64 D, const float* x, float* out, bool accumulate);
  i64 (*count_nonfinite)(Context&, i64 n, const float* x);
  i64 (*zero_nonfinite)(Context&, i64 n, float* x);
  void (*copy)(Context&, i64 n, const float* src, float* dst);
  void (*fill)(Context&, i64 n, float value, float* dst);
  void (*axpy)(Context&, i64 n, double a, const float* x, float* y);
  void (*scale)(Context&, i64 n, double a, float* x);
  void (*mul)(Context&, i64 n, const float* a, const float* b, float* out);
  void (*concat_columns)(Context&, i64 R, i64 D1, i64 D2, const float* a, const float* b, float* out);
  void (*split_columns_backward)(Context&, i64 R, i64 D1, i64 D2, const float* dout, float* da, float* db);

  void (*adam_step)(Context&, const AdamArgs&);
  void (*polyak)(Context&, i64 n, double tau, const float* source, float* target);
};

const KernelTable& kernels_avx512();
const KernelTable& kernels_avx2();
const KernelTable& kernels_scalar();

// Counter-based RNG (rng.cc; the definition is src/engine/rng.ts). Not per SIMD path: uniform
// must be bit-identical to the TypeScript definition on every path.
void random_uniform(Context&, i64 n, uint32_t seed, double counter, double lo, double hi, float* out);
void random_normal(Context&, i64 n, uint32_t seed, double counter, double mean, double std, float* out);

// FMA-loop peak measurement (peak.cc): returns GFLOP/s summed over the pool's threads.
double measure_peak_gflops(Context&, double seconds);

}  // namespace tdmpc
