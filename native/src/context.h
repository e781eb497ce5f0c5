// Per-engine state shared by every kernel: the thread pool, the kernel table of the chosen SIMD path,
// and scratch buffers that are allocated once and grown when a larger problem arrives (never per
// call: first touch of fresh memory costs ~13 us per 4 KiB page on these VMs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu.h"
#include "threadpool.h"

namespace tdmpc {

struct KernelTable;

/** 64-byte aligned float storage that only grows. */
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ~ScratchBuffer();
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  /** Makes room for n floats (plus vector padding); false when out of memory. */
  bool reserve(size_t n);
  float* data() const { return data_; }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

struct Context {
  Context(int threads, Simd simd, int guests = 0);

  ThreadPool pool;
  Simd simd;
  const KernelTable* kernels;

  // GEMM packing: B panels are shared by all threads of one call, A panels are per thread.
  ScratchBuffer bpack;                                // [panels][K][NR]
  std::vector<std::unique_ptr<ScratchBuffer>> apack;  // per thread: [MC/MR][KC][MR]
  // Row/column partial sums and temporaries of the fused and row-wise kernels.
  ScratchBuffer partials;                             // kernel-specific, see its user
  std::vector<std::unique_ptr<ScratchBuffer>> rows;   // per thread: one or two rows of floats

  int threads() const { return pool.size(); }
};

}  // namespace tdmpc
