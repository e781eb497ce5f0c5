// The portable kernel table (baseline x86-64 or any other CPU): the same generic kernels on
// one-float "vectors"; the compiler may still use SSE2 where it can vectorize on its own.
#include "isa_common.h"

namespace tdmpc {
namespace {

constexpr const char* kIsaName = "scalar";
#include "simd/vec_scalar.h"
#include "kernels/gemm_pack.h"

struct GemmIsa {
  static constexpr int MR = 4, NR = 8, KC = 256;
  static void pack_a(float* d, const float* A, bool ta, i64 M, i64 K, i64 m0, int mr, i64 k0, int kc) {
    pack_a_generic<MR>(d, A, ta, M, K, m0, mr, k0, kc);
  }
  static void pack_b(float* d, const float* B, bool tb, i64 N, i64 K, i64 n0, int nr) {
    pack_b_generic<NR>(d, B, tb, N, K, n0, nr);
  }
};

#include "kernels/all.h"

}  // namespace

const KernelTable& kernels_scalar() { return kTable; }

}  // namespace tdmpc
