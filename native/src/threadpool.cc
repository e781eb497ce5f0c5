#include "threadpool.h"

#include <sched.h>

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace tdmpc {

ThreadPool::ThreadPool(int threads) : size_(threads < 1 ? 1 : threads), seats_(new Seat[size_]) {
  workers_.reserve(size_ - 1);
  for (int t = 1; t < size_; ++t) workers_.emplace_back(&ThreadPool::worker_main, this, t);
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::shutdown() {
  if (workers_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_seq_cst);
    generation_.fetch_add(1, std::memory_order_seq_cst);
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  size_ = 1;
}

void ThreadPool::work(int thread) {
  const int n = ntasks_;
  for (;;) {
    const int task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= n) break;
    fn_(ctx_, task, thread);
  }
}

void ThreadPool::run(int ntasks, TaskFn fn, void* ctx) {
  if (ntasks <= 0) return;
  if (workers_.empty()) {
    for (int t = 0; t < ntasks; ++t) fn(ctx, t, 0);
    return;
  }
  // Every worker that joined the previous job has finished it (run() waited), so the job fields
  // are free to overwrite.
  fn_ = fn;
  ctx_ = ctx;
  ntasks_ = ntasks;
  next_task_.store(0, std::memory_order_relaxed);
  // seq_cst pairs with the sleepers_ increment in wait_for_job (Dekker-style): either this thread
  // sees the sleeper and notifies, or the sleeper sees the new generation before it waits.
  const uint64_t g = generation_.fetch_add(1, std::memory_order_seq_cst) + 1;
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  work(0);
  // Close the seats of workers that have not joined; wait for those that did.
  for (int t = 1; t < size_; ++t) {
    Seat& s = seats_[t];
    uint64_t cur = s.state.load(std::memory_order_acquire);
    if ((cur >> 1) < g && s.state.compare_exchange_strong(cur, g << 1, std::memory_order_acq_rel)) continue;
    // Joined (the CAS failed because the worker claimed (g << 1) | 1): wait for it to finish.
    int spins = 0;
    while (s.done.load(std::memory_order_acquire) != g) {
      cpu_relax();
      // A joined worker that lost its core (the machine is shared) gets a chance to run here.
      if (++spins > 4096) sched_yield();
    }
  }
}

uint64_t ThreadPool::wait_for_job(uint64_t seen) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::microseconds(kSpinMicros);
  for (int i = 0;; ++i) {
    const uint64_t g = generation_.load(std::memory_order_acquire);
    if (g != seen) return g;
    cpu_relax();
    if ((i & 255) == 255 && clock::now() > deadline) break;
  }
  std::unique_lock<std::mutex> lock(mu_);
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  uint64_t g;
  while ((g = generation_.load(std::memory_order_seq_cst)) == seen) cv_.wait(lock);
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return g;
}

void ThreadPool::worker_main(int thread) {
  Seat& s = seats_[thread];
  uint64_t seen = 0;
  for (;;) {
    seen = wait_for_job(seen);
    if (stop_.load(std::memory_order_acquire)) return;
    uint64_t cur = s.state.load(std::memory_order_acquire);
    if ((cur >> 1) >= seen) continue;  // the caller already closed this seat: job over
    if (!s.state.compare_exchange_strong(cur, (seen << 1) | 1, std::memory_order_acq_rel)) continue;
    work(thread);
    s.done.store(seen, std::memory_order_release);
  }
}

}  // namespace tdmpc
