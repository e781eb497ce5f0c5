#include "threadpool.h"

#include <sched.h>

#include <chrono>
#include <thread>
#include <unordered_map>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#else
static inline void cpu_relax() {}
#endif

namespace tdmpc {

// Pools that offered a guest seat, by id. A helper takes a pool out of the list only under the
// lock, counting itself in guests_entering_, so shutdown() (which unlists first, then waits for
// that count) never frees a pool a helper is still in.
static std::mutex g_listed_mu;
static std::unordered_map<int32_t, ThreadPool*> g_listed;

ThreadPool::ThreadPool(int threads, int guests)
    : size_((threads < 1 ? 1 : threads) + (guests < 0 ? 0 : guests)), own_(threads < 1 ? 1 : threads), seats_(new Seat[size_]) {
  workers_.reserve(own_ - 1);
  for (int t = 1; t < own_; ++t) workers_.emplace_back(&ThreadPool::worker_main, this, t);
}

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::shutdown() {
  {
    std::lock_guard<std::mutex> lock(g_listed_mu);
    unlist_locked();
  }
  if (size_ == 1) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true, std::memory_order_seq_cst);
    generation_.fetch_add(1, std::memory_order_seq_cst);
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  // A guest sees stop_ within one task.
  while (guests_entering_.load(std::memory_order_seq_cst) > 0) std::this_thread::yield();
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
  if (size_ == 1) {
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
  // Close the seats of workers and guests that have not joined; wait for those that did.
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

void ThreadPool::unlist_locked() {
  if (!listed_) return;
  auto it = g_listed.find(listed_id_);
  if (it != g_listed.end() && it->second == this) g_listed.erase(it);  // not if a newer pool took the id
  listed_ = false;
}

bool ThreadPool::offer_guest_seat(int32_t id) {
  if (own_ == size_) return false;
  std::lock_guard<std::mutex> lock(g_listed_mu);
  unlist_locked();
  g_listed[id] = this;  // a later pool under the same id (a restarted actor) replaces the old one
  listed_id_ = id;
  listed_ = true;
  return true;
}

int ThreadPool::help_pool(int32_t id, const int32_t* word, int32_t expected, double max_ms) {
  ThreadPool* pool;
  {
    std::lock_guard<std::mutex> lock(g_listed_mu);
    auto it = g_listed.find(id);
    if (it == g_listed.end()) return -2;
    pool = it->second;
    pool->guests_entering_.fetch_add(1, std::memory_order_seq_cst);
  }
  const int r = pool->help(word, expected, max_ms);
  pool->guests_entering_.fetch_sub(1, std::memory_order_seq_cst);  // the pool may be freed after this
  return r;
}

int ThreadPool::help(const int32_t* word, int32_t expected, double max_ms) {
  if (stop_.load(std::memory_order_seq_cst)) return -1;
  bool free = false;
  if (!guest_inside_.compare_exchange_strong(free, true, std::memory_order_acq_rel)) return -1;
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + std::chrono::microseconds(int64_t(max_ms * 1000.0));
  const int thread = own_;  // the first guest seat
  uint64_t seen = seats_[thread].state.load(std::memory_order_acquire) >> 1;
  auto last_job = start;
  int joined = 0;
  for (int i = 0;; ++i) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != expected || stop_.load(std::memory_order_acquire)) break;
    const uint64_t g = generation_.load(std::memory_order_acquire);
    if (g != seen) {
      seen = g;
      if (join(thread, g)) {
        ++joined;
        last_job = clock::now();
      }
      continue;
    }
    cpu_relax();
    if ((i & 255) == 255) {
      const auto now = clock::now();
      if (now > deadline) break;
      // Spin while jobs come back to back (a forward pass); between plans (environment steps,
      // replay writes) nap instead, so an idle guest does not keep a core busy for nothing.
      if (now - last_job > std::chrono::microseconds(kSpinMicros)) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
  guest_inside_.store(false, std::memory_order_release);
  return joined;
}

bool ThreadPool::join(int thread, uint64_t g) {
  Seat& s = seats_[thread];
  uint64_t cur = s.state.load(std::memory_order_acquire);
  if ((cur >> 1) >= g) return false;  // the caller already closed this seat: job over
  if (!s.state.compare_exchange_strong(cur, (g << 1) | 1, std::memory_order_acq_rel)) return false;
  work(thread);
  s.done.store(g, std::memory_order_release);
  return true;
}

void ThreadPool::worker_main(int thread) {
  uint64_t seen = 0;
  for (;;) {
    seen = wait_for_job(seen);
    if (stop_.load(std::memory_order_acquire)) return;
    join(thread, seen);
  }
}

}  // namespace tdmpc
