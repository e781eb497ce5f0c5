// Engine methods: reductions, copies, the optimizer, the counter RNG and the FMA peak probe.
// Argument positions follow src/engine/engine.ts; checks and messages follow js-engine.ts.
#include <cmath>

#include "binding/args.h"
#include "binding/methods.h"

namespace tdmpc {

static napi_value number_value(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

using ReduceFn = double (*)(Context&, i64, const float*);

template <ReduceFn KernelTable::*F>
static napi_value reduce(napi_env env, napi_callback_info info, const char* op) {
  Call c(env, info, op);
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* x = c.buffer(1, 2, "x", double(n));
  if (!c.ok()) return nullptr;
  return number_value(env, (c.ctx().kernels->*F)(c.ctx(), n, x));
}

static napi_value sum(napi_env e, napi_callback_info i) { return reduce<&KernelTable::sum>(e, i, "sum"); }
static napi_value sum_squares(napi_env e, napi_callback_info i) { return reduce<&KernelTable::sum_squares>(e, i, "sumSquares"); }

static napi_value sum_rows(napi_env env, napi_callback_info info) {
  Call c(env, info, "sumRows");
  if (!c.ok()) return nullptr;
  const i64 R = c.dim(0, "R"), D = c.dim(1, "D");
  const bool acc = c.flag(6, "accumulate");
  if (!c.check_dims()) return nullptr;
  const float* x = c.buffer(2, 3, "x", double(R) * double(D));
  float* out = c.buffer(4, 5, "out", double(D));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->sum_rows(c.ctx(), R, D, x, out, acc);
  return nullptr;
}

static napi_value nonfinite(napi_env env, napi_callback_info info, const char* op, bool zero) {
  Call c(env, info, op);
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  float* x = c.buffer(1, 2, "x", double(n));
  if (!c.ok()) return nullptr;
  const i64 count = zero ? c.ctx().kernels->zero_nonfinite(c.ctx(), n, x) : c.ctx().kernels->count_nonfinite(c.ctx(), n, x);
  return number_value(env, double(count));
}

static napi_value count_nonfinite(napi_env e, napi_callback_info i) { return nonfinite(e, i, "countNonFinite", false); }
static napi_value zero_nonfinite(napi_env e, napi_callback_info i) { return nonfinite(e, i, "zeroNonFinite", true); }

static napi_value copy(napi_env env, napi_callback_info info) {
  Call c(env, info, "copy");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* src = c.buffer(1, 2, "src", double(n));
  float* dst = c.buffer(3, 4, "dst", double(n));
  c.no_overlap("dst", dst, double(n), "src", src, double(n));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->copy(c.ctx(), n, src, dst);
  return nullptr;
}

static napi_value fill(napi_env env, napi_callback_info info) {
  Call c(env, info, "fill");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  float* dst = c.buffer(2, 3, "dst", double(n));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->fill(c.ctx(), n, float(c.number(1)), dst);
  return nullptr;
}

static napi_value axpy(napi_env env, napi_callback_info info) {
  Call c(env, info, "axpy");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* x = c.buffer(2, 3, "x", double(n));
  float* y = c.buffer(4, 5, "y", double(n));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->axpy(c.ctx(), n, c.number(1), x, y);
  return nullptr;
}

static napi_value scale(napi_env env, napi_callback_info info) {
  Call c(env, info, "scale");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  float* x = c.buffer(2, 3, "x", double(n));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->scale(c.ctx(), n, c.number(1), x);
  return nullptr;
}

static napi_value mul(napi_env env, napi_callback_info info) {
  Call c(env, info, "mul");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* a = c.buffer(1, 2, "a", double(n));
  const float* b = c.buffer(3, 4, "b", double(n));
  float* out = c.buffer(5, 6, "out", double(n));
  // Elementwise: in place on the very same range is fine, a shifted overlap is not.
  if (out != a) c.no_overlap("out", out, double(n), "a", a, double(n));
  if (out != b) c.no_overlap("out", out, double(n), "b", b, double(n));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->mul(c.ctx(), n, a, b, out);
  return nullptr;
}

static napi_value concat_columns(napi_env env, napi_callback_info info) {
  Call c(env, info, "concatColumns");
  if (!c.ok()) return nullptr;
  const i64 R = c.dim(0, "R"), D1 = c.dim(1, "D1"), D2 = c.dim(2, "D2");
  if (!c.check_dims()) return nullptr;
  const double r = double(R);
  const float* a = c.buffer(3, 4, "a", r * double(D1));
  const float* b = c.buffer(5, 6, "b", r * double(D2));
  float* out = c.buffer(7, 8, "out", r * (double(D1) + double(D2)));
  c.no_overlap("out", out, r * (double(D1) + double(D2)), "a", a, r * double(D1));
  c.no_overlap("out", out, r * (double(D1) + double(D2)), "b", b, r * double(D2));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->concat_columns(c.ctx(), R, D1, D2, a, b, out);
  return nullptr;
}

static napi_value split_columns_backward(napi_env env, napi_callback_info info) {
  Call c(env, info, "splitColumnsBackward");
  if (!c.ok()) return nullptr;
  const i64 R = c.dim(0, "R"), D1 = c.dim(1, "D1"), D2 = c.dim(2, "D2");
  if (!c.check_dims()) return nullptr;
  const double r = double(R);
  const float* dout = c.buffer(3, 4, "dout", r * (double(D1) + double(D2)));
  float* da = c.optional(5, 6, "da", r * double(D1));
  float* db = c.optional(7, 8, "db", r * double(D2));
  c.no_overlap("da", da, r * double(D1), "dout", dout, r * (double(D1) + double(D2)));
  c.no_overlap("db", db, r * double(D2), "dout", dout, r * (double(D1) + double(D2)));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->split_columns_backward(c.ctx(), R, D1, D2, dout, da, db);
  return nullptr;
}

/**
 * (n, params, pOff, grads, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, decoupled,
 *  gradScale, step, biasCorrection1, biasCorrection2): the TS wrapper appends 1 - β^step computed
 * with Math.pow, so both backends use the very same bias corrections.
 */
static napi_value adam_step(napi_env env, napi_callback_info info) {
  Call c(env, info, "adamStep");
  if (!c.ok()) return nullptr;
  AdamArgs a{};
  a.n = c.dim(0, "n");
  const i64 step = c.dim(16, "step");
  a.decoupled = c.flag(14, "decoupled");
  if (!c.check_dims()) return nullptr;
  if (step == 0) {
    c.fail("step must be at least 1 (1-based), got " + c.str(16));
    return nullptr;
  }
  const double n = double(a.n);
  a.params = c.buffer(1, 2, "params", n);
  a.grads = c.buffer(3, 4, "grads", n);
  a.m = c.buffer(5, 6, "m", n);
  a.v = c.buffer(7, 8, "v", n);
  if (!c.ok()) return nullptr;
  a.lr = c.number(9);
  a.beta1 = c.number(10);
  a.beta2 = c.number(11);
  a.eps = c.number(12);
  a.weight_decay = c.number(13);
  a.grad_scale = c.number(15);
  a.bias_correction1 = c.number(17);
  a.bias_correction2 = c.number(18);
  if (std::isnan(a.bias_correction1)) a.bias_correction1 = 1 - std::pow(a.beta1, double(step));
  if (std::isnan(a.bias_correction2)) a.bias_correction2 = 1 - std::pow(a.beta2, double(step));
  c.ctx().kernels->adam_step(c.ctx(), a);
  return nullptr;
}

static napi_value polyak(napi_env env, napi_callback_info info) {
  Call c(env, info, "polyak");
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n");
  if (!c.check_dims()) return nullptr;
  const float* source = c.buffer(2, 3, "source", double(n));
  float* target = c.buffer(4, 5, "target", double(n));
  if (!c.ok()) return nullptr;
  c.ctx().kernels->polyak(c.ctx(), n, c.number(1), source, target);
  return nullptr;
}

/** (n, seed, counter, a, b, out, outOff) for both RNG methods. */
static napi_value random(napi_env env, napi_callback_info info, const char* op, bool normal) {
  Call c(env, info, op);
  if (!c.ok()) return nullptr;
  const i64 n = c.dim(0, "n"), seed = c.dim(1, "seed"), counter = c.dim(2, "counter");
  if (!c.check_dims()) return nullptr;
  if (seed > 0xffffffffLL) {
    c.fail("seed must be a uint32, got " + c.str(1));
    return nullptr;
  }
  if (counter > (i64(1) << 53) - n) {  // exact in integers (counter + n in doubles can round)
    c.fail("counter + n must not exceed 2^53, got counter=" + c.str(2) + " n=" + c.str(0));
    return nullptr;
  }
  float* out = c.buffer(5, 6, "out", double(n));
  if (!c.ok()) return nullptr;
  if (normal) random_normal(c.ctx(), n, uint32_t(seed), double(counter), c.number(3), c.number(4), out);
  else random_uniform(c.ctx(), n, uint32_t(seed), double(counter), c.number(3), c.number(4), out);
  return nullptr;
}

static napi_value random_uniform_m(napi_env e, napi_callback_info i) { return random(e, i, "randomUniform", false); }
static napi_value random_normal_m(napi_env e, napi_callback_info i) { return random(e, i, "randomNormal", true); }

/** peakGflops(seconds): FMA-loop throughput of this engine's SIMD path on all its threads. */
static napi_value peak_gflops(napi_env env, napi_callback_info info) {
  Call c(env, info, "peakGflops");
  if (!c.ok()) return nullptr;
  double seconds = c.number(0);
  if (!(seconds > 0)) seconds = 0.5;
  if (seconds > 30) seconds = 30;
  return number_value(env, measure_peak_gflops(c.ctx(), seconds));
}

void add_plumbing_methods(Methods& m) {
  add_method(m, "sum", sum);
  add_method(m, "sumSquares", sum_squares);
  add_method(m, "sumRows", sum_rows);
  add_method(m, "countNonFinite", count_nonfinite);
  add_method(m, "zeroNonFinite", zero_nonfinite);
  add_method(m, "copy", copy);
  add_method(m, "fill", fill);
  add_method(m, "axpy", axpy);
  add_method(m, "scale", scale);
  add_method(m, "mul", mul);
  add_method(m, "concatColumns", concat_columns);
  add_method(m, "splitColumnsBackward", split_columns_backward);
  add_method(m, "adamStep", adam_step);
  add_method(m, "polyak", polyak);
  add_method(m, "randomUniform", random_uniform_m);
  add_method(m, "randomNormal", random_normal_m);
  add_method(m, "peakGflops", peak_gflops);
}

}  // namespace tdmpc
