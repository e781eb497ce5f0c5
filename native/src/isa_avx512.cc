// The AVX-512 kernel table: generic kernels compiled for AVX-512F/BW/DQ/VL with a 6x64 GEMM
// micro-kernel and in-register-transpose packing. Chosen at run time only when the CPU has it.
#include "isa_common.h"

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt")
// GCC 12's _mm512_reduce_* intrinsics start from an undefined vector and trip these warnings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace tdmpc {
namespace {

constexpr const char* kIsaName = "avx512";
#include "simd/vec_avx512.h"
#include "simd/gemm_pack_avx512.h"
#include "kernels/gemm_pack.h"

struct GemmIsa {
  static constexpr int MR = 6, NR = 64, KC = 384;
  static void pack_a(float* d, const float* A, bool ta, i64 M, i64 K, i64 m0, int mr, i64 k0, int kc) {
    pack_a_avx512<MR>(d, A, ta, M, K, m0, mr, k0, kc);
  }
  static void pack_b(float* d, const float* B, bool tb, i64 N, i64 K, i64 n0, int nr) {
    pack_b_avx512<NR>(d, B, tb, N, K, n0, nr);
  }
};

#include "kernels/all.h"

}  // namespace

const KernelTable& kernels_avx512() { return kTable; }

}  // namespace tdmpc

#pragma GCC diagnostic pop
#pragma GCC pop_options
