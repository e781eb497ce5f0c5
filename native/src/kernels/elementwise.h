// Element-wise activations and their backward (engine.ts "elementwise"). Mish runs on vectors:
//   mish(x) = x·tanh(softplus(x)) = x·n/(n+2) with n = e^x (e^x + 2),
// one exp and one (reciprocal-estimate) division instead of exp, log1p and tanh; for x > 20 it is x to float precision
// (and n would overflow near x = 44), so that range returns x. tanh and softplus are rare (policy
// heads of a few action dims): they use libm in double per element, like the JS engine, so both
// backends agree to the last bit almost always.

static inline vf vmish(vf x) {
  const vf two = vset1(2.0f);
  const vf e = vexp(x);
  const vf n = vmul(e, vadd(e, two));
  return vselect_gt(x, vset1(20.0f), x, vdiv_fast(vmul(x, n), vadd(n, two)));
}

/**
 * mish'(x) = t + x·σ(x)·(1 - t²) with t = n/(n+2), σ(x) = e/(1+e); 1 - t² is formed as
 * 4(n+1)/(n+2)² to avoid cancelling when t is near 1. 1 above x = 20, like vmish.
 */
static inline vf vmish_grad(vf x) {
  const vf one = vset1(1.0f), two = vset1(2.0f);
  const vf e = vexp(x);
  const vf n = vmul(e, vadd(e, two));
  const vf n2 = vadd(n, two);
  const vf t = vdiv(n, n2);
  const vf sig = vdiv(e, vadd(one, e));
  const vf omt2 = vdiv(vmul(vset1(4.0f), vadd(n, one)), vmul(n2, n2));
  const vf g = vadd(t, vmul(vmul(x, sig), omt2));
  return vselect_gt(x, vset1(20.0f), one, g);
}

/** y[i] = op(x[i]) over [i0, i1) with a masked vector tail (same code path for every element). */
template <class Op>
static inline void map_unary(i64 i0, i64 i1, const float* x, float* y, Op op) {
  i64 i = i0;
  for (; i + W <= i1; i += W) vstore(y + i, op(vload(x + i)));
  if (i < i1) vstore_n(y + i, op(vload_n(x + i, i1 - i, 0.0f)), i1 - i);
}

struct MishOp {
  vf operator()(vf v) const { return vmish(v); }
};

static void mish_forward(Context& ctx, i64 n, const float* x, float* y) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) { map_unary(i0, i1, x, y, MishOp()); });
}

static void mish_backward(Context& ctx, i64 n, const float* x, const float* dy, float* dx) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    i64 i = i0;
    for (; i + W <= i1; i += W) vstore(dx + i, vadd(vload(dx + i), vmul(vload(dy + i), vmish_grad(vload(x + i)))));
    if (i < i1) {
      const i64 k = i1 - i;
      const vf d = vmul(vload_n(dy + i, k, 0.0f), vmish_grad(vload_n(x + i, k, 0.0f)));
      vstore_n(dx + i, vadd(vload_n(dx + i, k, 0.0f), d), k);
    }
  });
}

static void tanh_forward(Context& ctx, i64 n, const float* x, float* y) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) y[i] = float(std::tanh(double(x[i])));
  });
}

static void tanh_backward(Context& ctx, i64 n, const float* y, const float* dy, float* dx) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      const double t = y[i];
      dx[i] = float(double(dx[i]) + double(dy[i]) * (1.0 - t * t));
    }
  });
}

/** log(1 + e^x); x above 20 returns x (PyTorch's threshold, as in the JS engine). */
static inline double softplus1(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

/** 1 / (1 + e^-x) without overflow for very negative x. */
static inline double sigmoid1(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

static void softplus_forward(Context& ctx, i64 n, const float* x, float* y) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) y[i] = float(softplus1(x[i]));
  });
}

static void softplus_backward(Context& ctx, i64 n, const float* x, const float* dy, float* dx) {
  for_chunks(ctx, n, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) dx[i] = float(double(dx[i]) + double(dy[i]) * sigmoid1(x[i]));
  });
}
