#include "context.h"

#include <cstdlib>

#include "kernels.h"

namespace tdmpc {

ScratchBuffer::~ScratchBuffer() { std::free(data_); }

bool ScratchBuffer::reserve(size_t n) {
  // 64 floats of slack: vector kernels may load/store a full register past a panel's end.
  const size_t want = n + 64;
  if (want <= capacity_) return true;
  size_t grown = capacity_ + capacity_ / 2;
  if (grown < want) grown = want;
  const size_t bytes = (grown * sizeof(float) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) return false;
  std::free(data_);
  data_ = static_cast<float*>(p);
  capacity_ = bytes / sizeof(float);
  return true;
}

static const KernelTable* table_for(Simd simd) {
  switch (simd) {
    case Simd::Avx512: return &kernels_avx512();
    case Simd::Avx2: return &kernels_avx2();
    default: return &kernels_scalar();
  }
}

Context::Context(int threads, Simd simd_, int guests) : pool(threads, guests), simd(simd_), kernels(table_for(simd_)) {
  for (int t = 0; t < pool.size(); ++t) {
    apack.emplace_back(new ScratchBuffer());
    rows.emplace_back(new ScratchBuffer());
  }
}

}  // namespace tdmpc
