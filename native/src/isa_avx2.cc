// The AVX2+FMA kernel table: generic kernels compiled for AVX2 with a 6x16 GEMM micro-kernel
// (12 of the 16 ymm registers hold C) and portable packing.
#include "isa_common.h"

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt")

namespace tdmpc {
namespace {

constexpr const char* kIsaName = "avx2";
#include "simd/vec_avx2.h"
#include "kernels/gemm_pack.h"

struct GemmIsa {
  static constexpr int MR = 6, NR = 16, KC = 256;
  static void pack_a(float* d, const float* A, bool ta, i64 M, i64 K, i64 m0, int mr, i64 k0, int kc) {
    pack_a_generic<MR>(d, A, ta, M, K, m0, mr, k0, kc);
  }
  static void pack_b(float* d, const float* B, bool tb, i64 N, i64 K, i64 n0, int nr) {
    pack_b_generic<NR>(d, B, tb, N, K, n0, nr);
  }
};

#include "kernels/all.h"

}  // namespace

const KernelTable& kernels_avx2() { return kTable; }

}  // namespace tdmpc

#pragma GCC pop_options
