// Run-time SIMD dispatch: which instruction set the kernels use on this CPU.
// The addon is built without -march=native, so one binary runs everywhere; the best path the CPU
// (and the OS, for the AVX-512 register state) supports is chosen when an engine is created.
#pragma once

namespace tdmpc {

enum class Simd { Scalar = 0, Avx2 = 1, Avx512 = 2 };

/** Best path this CPU supports: AVX-512 (F/BW/DQ/VL), AVX2+FMA, or the portable scalar code. */
Simd best_simd();

/** "avx512" | "avx2" | "scalar". */
const char* simd_name(Simd s);

/** Parses "avx512" | "avx2" | "scalar"; returns false for anything else. */
bool parse_simd(const char* text, Simd* out);

}  // namespace tdmpc
