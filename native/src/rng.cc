// The counter-based RNG of src/engine/rng.ts (that file is the definition; see its header). The
// integer hashing is exact, and the uniform's float64 arithmetic is the same sequence of IEEE
// operations as the TypeScript (no FMA contraction: -ffp-contract=off), so uniform draws are
// bit-identical to it; normals go through libm's log/cos and agree to ~1e-7.
#include <cmath>
#include <cstdint>

#include "context.h"
#include "kernels.h"

namespace tdmpc {

static inline uint32_t hash32(uint32_t x) {  // "lowbias32" (Chris Wellons, public domain)
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

static inline uint32_t rng_key(uint32_t seed, uint32_t lane) { return hash32(seed + lane * 0x9e3779b9u); }

static inline uint32_t rng_word(uint32_t key, uint64_t counter) {
  const uint32_t lo = uint32_t(counter), hi = uint32_t(counter >> 32);
  uint32_t h = hash32(lo ^ key);
  h = hash32(h ^ hi ^ 0x5bd1e995u);
  return hash32(h + key);
}

constexpr double kUnit24 = 1.0 / 16777216.0;  // 2^-24
constexpr i64 kRngChunk = 16384;

/** f(i0, i1) over [0, n) in fixed chunks, on the pool when n is large. */
template <class F>
static void rng_chunks(Context& ctx, i64 n, F& f) {
  if (ctx.threads() == 1 || n < 4 * kRngChunk) {
    if (n > 0) f(0, n);
    return;
  }
  auto task = [&](int t, int) {
    const i64 i0 = t * kRngChunk;
    f(i0, i0 + kRngChunk < n ? i0 + kRngChunk : n);
  };
  parallel_for(ctx.pool, true, int((n + kRngChunk - 1) / kRngChunk), task);
}

void random_uniform(Context& ctx, i64 n, uint32_t seed, double counter, double lo, double hi, float* out) {
  const uint32_t key0 = rng_key(seed, 0);
  const double range = hi - lo;
  const uint64_t c0 = uint64_t(counter);
  auto f = [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      const double u = double(rng_word(key0, c0 + uint64_t(i)) >> 8) * kUnit24;
      out[i] = float(lo + range * u);
    }
  };
  rng_chunks(ctx, n, f);
}

void random_normal(Context& ctx, i64 n, uint32_t seed, double counter, double mean, double std, float* out) {
  const uint32_t key0 = rng_key(seed, 0), key1 = rng_key(seed, 1);
  const uint64_t c0 = uint64_t(counter);
  const double two_pi = 2 * M_PI;
  auto f = [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      const uint64_t c = c0 + uint64_t(i);
      const double u1 = (double(rng_word(key0, c) >> 8) + 1) * kUnit24;
      const double u2 = double(rng_word(key1, c) >> 8) * kUnit24;
      const double z = std::sqrt(-2 * std::log(u1)) * std::cos(two_pi * u2);
      out[i] = float(mean + std * z);
    }
  };
  rng_chunks(ctx, n, f);
}

}  // namespace tdmpc
