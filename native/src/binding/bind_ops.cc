// Engine methods: activations, row-wise softmax/SimNorm, two-hot and soft cross-entropy, Gaussian
// KL. Argument positions follow src/engine/engine.ts; checks and messages follow js-engine.ts.
#include <cmath>

#include "binding/args.h"
#include "binding/methods.h"

namespace tdmpc {

using UnaryFn = void (*)(Context&, i64, const float*, float*);
using GradFn = void (*)(Context&, i64, const float*, const float*, float*);

/** (n, x, xOff, y, yOff) */
template <UnaryFn KernelTable::*F>
static napi_value unary(napi_env env, napi_callback_info info, const char* op) {
  Call c(env, info, op);
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* x = c.buffer(1, 2, "x", double(n));
  float* y = c.buffer(3, 4, "y", double(n));
  if (!c.ok()) return nullptr;
  (c.ctx().kernels->*F)(c.ctx(), n, x, y);
  return nullptr;
}

/** (n, in, inOff, dy, dyOff, dx, dxOff); `in` is x, or y for tanh. */
template <GradFn KernelTable::*F>
static napi_value grad(napi_env env, napi_callback_info info, const char* op, const char* in_name) {
  Call c(env, info, op);
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* x = c.buffer(1, 2, in_name, double(n));
  const float* dy = c.buffer(3, 4, "dy", double(n));
  float* dx = c.buffer(5, 6, "dx", double(n));
  if (!c.ok()) return nullptr;
  (c.ctx().kernels->*F)(c.ctx(), n, x, dy, dx);
  return nullptr;
}

static napi_value mish_forward(napi_env e, napi_callback_info i) { return unary<&KernelTable::mish_forward>(e, i, "mishForward"); }
static napi_value tanh_forward(napi_env e, napi_callback_info i) { return unary<&KernelTable::tanh_forward>(e, i, "tanhForward"); }
static napi_value softplus_forward(napi_env e, napi_callback_info i) {
  return unary<&KernelTable::softplus_forward>(e, i, "softplusForward");
}
static napi_value mish_backward(napi_env e, napi_callback_info i) {
  return grad<&KernelTable::mish_backward>(e, i, "mishBackward", "x");
}
static napi_value tanh_backward(napi_env e, napi_callback_info i) {
  return grad<&KernelTable::tanh_backward>(e, i, "tanhBackward", "y");
}
static napi_value softplus_backward(napi_env e, napi_callback_info i) {
  return grad<&KernelTable::softplus_backward>(e, i, "softplusBackward", "x");
}

/** SimNorm dims R, D, G and their rules. */
static bool simnorm_dims(Call& c, i64* R, i64* D, i64* G) {
  *R = c.dim(0, "R");
  *D = c.dim(1, "D");
  *G = c.dim(2, "G");
  if (!c.check_dims()) return false;
  if (*G == 0) {
    c.fail("G must be positive, got " + c.str(2));
    return false;
  }
  if (*D % *G != 0) {
    c.fail("D must be divisible by G, got D=" + c.str(1) + " G=" + c.str(2));
    return false;
  }
  return true;
}

static napi_value simnorm_forward(napi_env env, napi_callback_info info) {
  Call c(env, info, "simnormForward");
  if (!c.ok()) return nullptr;
  i64 R, D, G;
  if (!simnorm_dims(c, &R, &D, &G)) return nullptr;
  const float* x = c.buffer(3, 4, "x", double(R) * double(D));
  float* y = c.buffer(5, 6, "y", double(R) * double(D));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->simnorm_forward(c.ctx(), R, D, G, x, y);
  return nullptr;
}

static napi_value simnorm_backward(napi_env env, napi_callback_info info) {
  Call c(env, info, "simnormBackward");
  if (!c.ok()) return nullptr;
  i64 R, D, G;
  if (!simnorm_dims(c, &R, &D, &G)) return nullptr;
  const double n = double(R) * double(D);
  const float* y = c.buffer(3, 4, "y", n);
  const float* dy = c.buffer(5, 6, "dy", n);
  float* dx = c.buffer(7, 8, "dx", n);
  if (!c.ok()) return nullptr;
  c.ctx().kernels->simnorm_backward(c.ctx(), R, D, G, y, dy, dx);
  return nullptr;
}

using RowFn = void (*)(Context&, i64, i64, const float*, float*);

/** (R, D, x, xOff, y, yOff) */
template <RowFn KernelTable::*F>
static napi_value rows(napi_env env, napi_callback_info info, const char* op) {
  Call c(env, info, op);
  if (!c.ok()) return nullptr;
  const i64 R = c.dim(0, "R"), D = c.dim(1, "D");
  if (!c.check_dims()) return nullptr;
  const float* x = c.buffer(2, 3, "x", double(R) * double(D));
  float* y = c.buffer(4, 5, "y", double(R) * double(D));
  if (!c.ok()) return nullptr;
  (c.ctx().kernels->*F)(c.ctx(), R, D, x, y);
  return nullptr;
}

static napi_value softmax_forward(napi_env e, napi_callback_info i) {
  return rows<&KernelTable::softmax_forward>(e, i, "softmaxForward");
}
static napi_value log_softmax_forward(napi_env e, napi_callback_info i) {
  return rows<&KernelTable::log_softmax_forward>(e, i, "logSoftmaxForward");
}

/** Two-hot dims (count, NB) and the bin-range rules (js-engine.ts checkBins). */
static bool bins(Call& c, const char* count_name, i64* count, i64* NB, double* vmin, double* vmax) {
  *count = c.dim(0, count_name);
  *NB = c.dim(1, "NB");
  if (!c.check_dims()) return false;
  *vmin = c.number(2);
  *vmax = c.number(3);
  if (*NB == 0) {
    c.fail("NB must be at least 1, got " + c.str(1));
    return false;
  }
  if (*NB > 1 && !(*vmax > *vmin && std::isfinite(*vmin) && std::isfinite(*vmax))) {
    c.fail("vmin and vmax must be finite with vmin < vmax, got vmin=" + c.str(2) + " vmax=" + c.str(3));
    return false;
  }
  return true;
}

static napi_value two_hot_encode(napi_env env, napi_callback_info info) {
  Call c(env, info, "twoHotEncode");
  if (!c.ok()) return nullptr;
  i64 n, NB;
  double vmin, vmax;
  if (!bins(c, "n", &n, &NB, &vmin, &vmax)) return nullptr;
  const float* x = c.buffer(4, 5, "x", double(n));
  float* target = c.buffer(6, 7, "target", double(n) * double(NB));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->two_hot_encode(c.ctx(), n, NB, vmin, vmax, x, target);
  return nullptr;
}

static napi_value two_hot_decode(napi_env env, napi_callback_info info) {
  Call c(env, info, "twoHotDecode");
  if (!c.ok()) return nullptr;
  i64 R, NB;
  double vmin, vmax;
  if (!bins(c, "R", &R, &NB, &vmin, &vmax)) return nullptr;
  const float* logits = c.buffer(4, 5, "logits", double(R) * double(NB));
  float* out = c.buffer(6, 7, "out", double(R));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->two_hot_decode(c.ctx(), R, NB, vmin, vmax, logits, out);
  return nullptr;
}

static napi_value soft_ce_forward(napi_env env, napi_callback_info info) {
  Call c(env, info, "softCrossEntropyForward");
  if (!c.ok()) return nullptr;
  const i64 R = c.dim(0, "R"), NB = c.dim(1, "NB");
  if (!c.check_dims()) return nullptr;
  const double n = double(R) * double(NB);
  const float* logits = c.buffer(2, 3, "logits", n);
  const float* target = c.buffer(4, 5, "target", n);
  float* loss = c.buffer(6, 7, "loss", double(R));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->soft_ce_forward(c.ctx(), R, NB, logits, target, loss);
  return nullptr;
}

static napi_value soft_ce_backward(napi_env env, napi_callback_info info) {
  Call c(env, info, "softCrossEntropyBackward");
  if (!c.ok()) return nullptr;
  const i64 R = c.dim(0, "R"), NB = c.dim(1, "NB");
  if (!c.check_dims()) return nullptr;
  const double n = double(R) * double(NB);
  const float* logits = c.buffer(2, 3, "logits", n);
  const float* target = c.buffer(4, 5, "target", n);
  const float* dloss = c.buffer(6, 7, "dloss", double(R));
  float* dlogits = c.buffer(8, 9, "dlogits", n);
  if (!c.ok()) return nullptr;
  c.ctx().kernels->soft_ce_backward(c.ctx(), R, NB, logits, target, dloss, dlogits);
  return nullptr;
}

static napi_value kl_forward(napi_env env, napi_callback_info info) {
  Call c(env, info, "gaussianKlForward");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const double k = double(n);
  const float* mu1 = c.buffer(1, 2, "mu1", k);
  const float* ls1 = c.buffer(3, 4, "ls1", k);
  const float* mu2 = c.buffer(5, 6, "mu2", k);
  const float* ls2 = c.buffer(7, 8, "ls2", k);
  float* out = c.buffer(9, 10, "out", k);
  if (!c.ok()) return nullptr;
  c.ctx().kernels->kl_forward(c.ctx(), n, mu1, ls1, mu2, ls2, out);
  return nullptr;
}

static napi_value kl_backward(napi_env env, napi_callback_info info) {
  Call c(env, info, "gaussianKlBackward");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const double k = double(n);
  const float* mu1 = c.buffer(1, 2, "mu1", k);
  const float* ls1 = c.buffer(3, 4, "ls1", k);
  const float* mu2 = c.buffer(5, 6, "mu2", k);
  const float* ls2 = c.buffer(7, 8, "ls2", k);
  const float* dout = c.buffer(9, 10, "dout", k);
  float* dmu1 = c.optional(11, 12, "dmu1", k);
  float* dls1 = c.optional(13, 14, "dls1", k);
  float* dmu2 = c.optional(15, 16, "dmu2", k);
  float* dls2 = c.optional(17, 18, "dls2", k);
  if (!c.ok()) return nullptr;
  c.ctx().kernels->kl_backward(c.ctx(), n, mu1, ls1, mu2, ls2, dout, dmu1, dls1, dmu2, dls2);
  return nullptr;
}

void add_op_methods(Methods& m) {
  add_method(m, "mishForward", mish_forward);
  add_method(m, "mishBackward", mish_backward);
  add_method(m, "tanhForward", tanh_forward);
  add_method(m, "tanhBackward", tanh_backward);
  add_method(m, "softplusForward", softplus_forward);
  add_method(m, "softplusBackward", softplus_backward);
  add_method(m, "simnormForward", simnorm_forward);
  add_method(m, "simnormBackward", simnorm_backward);
  add_method(m, "softmaxForward", softmax_forward);
  add_method(m, "logSoftmaxForward", log_softmax_forward);
  add_method(m, "twoHotEncode", two_hot_encode);
  add_method(m, "twoHotDecode", two_hot_decode);
  add_method(m, "softCrossEntropyForward", soft_ce_forward);
  add_method(m, "softCrossEntropyBackward", soft_ce_backward);
  add_method(m, "gaussianKlForward", kl_forward);
  add_method(m, "gaussianKlBackward", kl_backward);
}

}  // namespace tdmpc
