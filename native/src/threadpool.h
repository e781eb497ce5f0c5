// A persistent thread pool owned by one engine: `threads - 1` workers plus the calling thread,
// created once and joined in shutdown(). run() hands out task indices from an atomic counter, so
// which thread computes a task varies between calls; kernels therefore make every task's result
// independent of the thread that runs it (split by rows/panels, never split a reduction), which is
// what makes 1 and 2 threads give bit-identical outputs.
//
// Joining a job: a woken worker claims its seat for the job's generation with a CAS; the calling
// thread, once the task counter runs dry, closes every unclaimed seat with the same CAS. So run()
// waits only for workers that actually joined (and are finishing a task), never for one that the
// OS has not scheduled yet; that worker finds its seat closed and skips the job. This matters on a
// 2-core machine shared with other processes.
//
// Waking: after a job a worker spins for kSpinMicros before sleeping on a condition variable, so
// back-to-back kernels (a forward pass is dozens of them) start without a futex round trip, while
// an idle engine does not burn a core.
// Guest seats: a pool may have seats without a thread of its own, filled by a thread of another
// engine that has nothing to do (help()). That is how the learner lends its core to an actor while
// it waits for the actor's next transition: the actor's kernels then split their tasks as for two
// threads, and run on the calling thread alone whenever no guest joins (the seat protocol above
// never waits for a guest that has not joined). A guest leaves after the task it is running, so
// the learner resumes within one task of its wait ending.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tdmpc {

/** fn(ctx, task, thread): thread is 0 for the calling thread, 1..size-1 for the workers. */
using TaskFn = void (*)(void* ctx, int task, int thread);

class ThreadPool {
 public:
  /** threads: computing threads, the caller included; guests: extra seats for help(). */
  explicit ThreadPool(int threads, int guests = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /** Seats that compute: the calling thread, the workers and the guest seats. */
  int size() const { return size_; }

  /** Threads of the pool itself, the calling thread included (no guests). */
  int own_threads() const { return own_; }

  /** Lists this pool (it needs a guest seat) under `id`, process-wide, for help_pool(); false without a guest seat. */
  bool offer_guest_seat(int32_t id);

  /**
   * Joins the jobs of the pool listed under `id` on the calling thread (another engine's), in its
   * first guest seat, while *word == expected (a word of shared memory, e.g. the replay's insert
   * counter) and for at most max_ms. Returns the jobs joined; -1 when another guest is in the
   * seat or the pool is shutting down; -2 when no pool is listed under `id`.
   */
  static int help_pool(int32_t id, const int32_t* word, int32_t expected, double max_ms);

  /** Runs fn for task = 0..ntasks-1 on all threads; returns when every task is done. */
  void run(int ntasks, TaskFn fn, void* ctx);

  /** Stops and joins the workers and waits for a guest to leave; later run() calls execute on the calling thread only. */
  void shutdown();

 private:
  static constexpr int kSpinMicros = 100;

  // A worker's seat in the current job: (generation << 1) | joined. The worker CASes it to
  // (g << 1) | 1 to join job g; the caller CASes it to (g << 1) | 0 to close it.
  struct alignas(64) Seat {
    std::atomic<uint64_t> state{0};
    std::atomic<uint64_t> done{0};  // last generation this worker finished (after joining)
  };

  int help(const int32_t* word, int32_t expected, double max_ms);
  /** Claims seat `thread` for job g and runs its share; false if the caller closed the seat first. */
  bool join(int thread, uint64_t g);
  /** Takes this pool out of the guest-seat list (g_listed_mu held). */
  void unlist_locked();
  void worker_main(int thread);
  void work(int thread);
  uint64_t wait_for_job(uint64_t seen);

  int size_;
  int own_;
  std::vector<std::thread> workers_;
  std::unique_ptr<Seat[]> seats_;  // [size_], index 0 unused

  // The current job: written by the calling thread before it bumps generation_ (release), read
  // by a worker only after it joined that generation.
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int ntasks_ = 0;
  alignas(64) std::atomic<int> next_task_{0};
  alignas(64) std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> sleepers_{0};

  std::atomic<bool> guest_inside_{false};  // help() is running (one guest at a time)
  std::atomic<int> guests_entering_{0};    // help_pool() calls holding this pool (shutdown waits for 0)
  int32_t listed_id_ = 0;
  bool listed_ = false;
};

/** Runs f(task, thread) for every task on the pool (or inline when parallel is false). */
template <class F>
inline void parallel_for(ThreadPool& pool, bool parallel, int ntasks, F& f) {
  if (!parallel || pool.size() == 1 || ntasks <= 1) {
    for (int t = 0; t < ntasks; ++t) f(t, 0);
    return;
  }
  pool.run(ntasks, [](void* ctx, int task, int thread) { (*static_cast<F*>(ctx))(task, thread); }, &f);
}

}  // namespace tdmpc
