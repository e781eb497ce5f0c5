// CPU feature detection with cpuid (GCC's __builtin_cpu_supports also checks, through XGETBV, that the
// OS saves the AVX/AVX-512 register state, so a supported path is also a usable one).
#include "cpu.h"

#include <cstring>

namespace tdmpc {

static Simd detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    return Simd::Avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Simd::Avx2;
#endif
  return Simd::Scalar;
}

Simd best_simd() {
  // A function-local static is initialized once, thread-safely, and only read afterwards, so
  // engines created in several worker threads at once share it safely.
  static const Simd best = detect();
  return best;
}

const char* simd_name(Simd s) {
  switch (s) {
    case Simd::Avx512: return "avx512";
    case Simd::Avx2: return "avx2";
    default: return "scalar";
  }
}

bool parse_simd(const char* text, Simd* out) {
  if (std::strcmp(text, "avx512") == 0) *out = Simd::Avx512;
  else if (std::strcmp(text, "avx2") == 0) *out = Simd::Avx2;
  else if (std::strcmp(text, "scalar") == 0) *out = Simd::Scalar;
  else return false;
  return true;
}

}  // namespace tdmpc
