// Engine methods: gemm, gemmBatched and the fused NormedLinear. Argument positions follow
// src/engine/engine.ts; checks and messages follow src/engine/js-engine.ts.
#include "binding/args.h"
#include "binding/methods.h"

namespace tdmpc {

static napi_value gemm(napi_env env, napi_callback_info info) {
  Call c(env, info, "gemm");
  if (!c.ok()) return nullptr;
  const i64 M = c.dim(2, "M"), N = c.dim(3, "N"), K = c.dim(4, "K");
  const bool ta = c.flag(0, "transA"), tb = c.flag(1, "transB");
  if (!c.check_dims()) return nullptr;
  const double m = double(M), n = double(N), k = double(K);
  const float* A = c.buffer(5, 6, "A", m * k);
  const float* B = c.buffer(7, 8, "B", k * n);
  float* C = c.buffer(9, 10, "C", m * n);
  const float* bias = c.optional(11, 12, "bias", n);
  const bool acc = c.boolean(13);
  // C is written while A, B and bias are still read: an overlap would give silently wrong results.
  c.no_overlap("C", C, m * n, "A", A, m * k);
  c.no_overlap("C", C, m * n, "B", B, k * n);
  c.no_overlap("C", C, m * n, "bias", bias, n);
  if (!c.ok()) return nullptr;
  const GemmArgs g{ta, tb, M, N, K, A, B, C, bias, acc};
  if (!c.ctx().kernels->gemm(c.ctx(), g)) c.fail_error("out of memory for packing buffers");
  return nullptr;
}

static napi_value gemm_batched(napi_env env, napi_callback_info info) {
  Call c(env, info, "gemmBatched");
  if (!c.ok()) return nullptr;
  const i64 count = c.dim(0, "count"), M = c.dim(3, "M"), N = c.dim(4, "N"), K = c.dim(5, "K");
  const bool ta = c.flag(1, "transA"), tb = c.flag(2, "transB");
  const i64 as = c.dim(8, "aStride"), bs = c.dim(11, "bStride"), cs = c.dim(14, "cStride"), ss = c.dim(17, "biasStride");
  if (!c.check_dims()) return nullptr;
  // Problem count-1 ends furthest: (count-1)·stride + size floats from the offset.
  const double last = count > 0 ? double(count - 1) : 0, live = count > 0 ? 1 : 0;
  const double m = double(M), n = double(N), k = double(K);
  const float* A = c.buffer(6, 7, "A", live * (last * double(as) + m * k));
  const float* B = c.buffer(9, 10, "B", live * (last * double(bs) + k * n));
  float* C = c.buffer(12, 13, "C", live * (last * double(cs) + m * n));
  const float* bias = c.optional(15, 16, "bias", live * (last * double(ss) + n));
  const bool acc = c.boolean(18);
  const double cSpan = live * (last * double(cs) + m * n);
  c.no_overlap("C", C, cSpan, "A", A, live * (last * double(as) + m * k));
  c.no_overlap("C", C, cSpan, "B", B, live * (last * double(bs) + k * n));
  c.no_overlap("C", C, cSpan, "bias", bias, live * (last * double(ss) + n));
  if (!c.ok()) return nullptr;
  for (i64 p = 0; p < count; ++p) {
    const GemmArgs g{ta, tb, M, N, K, A + p * as, B + p * bs, C + p * cs, bias ? bias + p * ss : nullptr, acc};
    if (!c.ctx().kernels->gemm(c.ctx(), g)) {
      c.fail_error("out of memory for packing buffers");
      break;
    }
  }
  return nullptr;
}

/** Shared dims and rules of both NormedLinear directions (js-engine.ts checkNormedLinearDims). */
static bool normed_linear_dims(Call& c, NormedLinearArgs& a) {
  a.R = c.dim(0, "R");
  a.in = c.dim(1, "in");
  a.out = c.dim(2, "out");
  const i64 act = c.dim(3, "act");
  a.group = c.dim(4, "group");
  if (!c.check_dims()) return false;
  if (act != 0 && act != 1 && act != 2) {
    c.fail("act must be 0 (none), 1 (mish) or 2 (simnorm), got " + c.str(3));
    return false;
  }
  a.act = int(act);
  if (act == 2) {
    if (a.group == 0) {
      c.fail("group must be positive for act=2 (simnorm), got " + c.str(4));
      return false;
    }
    if (a.out % a.group != 0) {
      c.fail("out must be divisible by group, got out=" + c.str(2) + " group=" + c.str(4));
      return false;
    }
  }
  return true;
}

static napi_value normed_linear_forward(napi_env env, napi_callback_info info) {
  Call c(env, info, "normedLinearForward");
  if (!c.ok()) return nullptr;
  NormedLinearArgs a{};
  if (!normed_linear_dims(c, a)) return nullptr;
  const double R = double(a.R), in = double(a.in), out = double(a.out);
  a.x = c.buffer(5, 6, "x", R * in);
  a.W = c.buffer(7, 8, "W", out * in);
  a.b = c.buffer(9, 10, "b", out);
  a.gamma = c.buffer(11, 12, "gamma", out);
  a.beta = c.buffer(13, 14, "beta", out);
  a.mask = c.optional(15, 16, "mask", R * out);
  a.lin = c.buffer(17, 18, "lin", R * out);
  a.mean = c.buffer(19, 20, "mean", R);
  a.rstd = c.buffer(21, 22, "rstd", R);
  a.y = c.buffer(23, 24, "out", R * out);
  c.no_overlap("out", a.y, R * out, "lin", a.lin, R * out);
  if (!c.ok()) return nullptr;
  if (!c.ctx().kernels->normed_linear_forward(c.ctx(), a)) c.fail_error("out of memory for packing buffers");
  return nullptr;
}

static napi_value normed_linear_backward(napi_env env, napi_callback_info info) {
  Call c(env, info, "normedLinearBackward");
  if (!c.ok()) return nullptr;
  NormedLinearArgs a{};
  if (!normed_linear_dims(c, a)) return nullptr;
  const double R = double(a.R), in = double(a.in), out = double(a.out);
  a.x = c.buffer(5, 6, "x", R * in);
  a.W = c.buffer(7, 8, "W", out * in);
  a.gamma = c.buffer(9, 10, "gamma", out);
  a.beta = c.buffer(11, 12, "beta", out);
  a.mask = c.optional(13, 14, "mask", R * out);
  a.lin = c.buffer(15, 16, "lin", R * out);
  a.mean = c.buffer(17, 18, "mean", R);
  a.rstd = c.buffer(19, 20, "rstd", R);
  a.y = c.buffer(21, 22, "out", R * out);
  a.dy = c.buffer(23, 24, "dout", R * out);
  a.dx = c.optional(25, 26, "dx", R * in);
  a.dW = c.buffer(27, 28, "dW", out * in);
  a.db = c.buffer(29, 30, "db", out);
  a.dgamma = c.buffer(31, 32, "dgamma", out);
  a.dbeta = c.buffer(33, 34, "dbeta", out);
  a.scratch = c.buffer(35, 36, "scratch", R * out);
  if (!c.ok()) return nullptr;
  if (!c.ctx().kernels->normed_linear_backward(c.ctx(), a)) c.fail_error("out of memory for scratch buffers");
  return nullptr;
}

void add_gemm_methods(Methods& m) {
  add_method(m, "gemm", gemm);
  add_method(m, "gemmBatched", gemm_batched);
  add_method(m, "normedLinearForward", normed_linear_forward);
  add_method(m, "normedLinearBackward", normed_linear_backward);
}

}  // namespace tdmpc
