// Splitting element ranges over the pool. Chunk boundaries depend only on n (never on the thread
// count) and are multiples of every vector width, so each element is computed by the same code
// path whether one thread or two run the kernel.

constexpr i64 kChunk = 16384;           // elements per task
constexpr i64 kParallelElems = 65536;   // below: one thread (memory-bound loops gain little)

/** f(i0, i1) over [0, n) in chunks, in parallel when n is large enough. */
template <class F>
static void for_chunks(Context& ctx, i64 n, F&& f) {
  if (n <= 0) return;
  if (ctx.threads() == 1 || n < kParallelElems) {
    f(i64(0), n);
    return;
  }
  auto task = [&](int t, int) {
    const i64 i0 = t * kChunk;
    f(i0, i0 + kChunk < n ? i0 + kChunk : n);
  };
  parallel_for(ctx.pool, true, int((n + kChunk - 1) / kChunk), task);
}

/** f(r0, r1, thread) over rows [0, R) in blocks of rows_per_task, parallel when work >= threshold. */
template <class F>
static void for_rows(Context& ctx, i64 R, i64 rows_per_task, double work, F&& f) {
  if (R <= 0) return;
  const i64 tasks = (R + rows_per_task - 1) / rows_per_task;
  auto task = [&](int t, int thread) {
    const i64 r0 = t * rows_per_task;
    f(r0, r0 + rows_per_task < R ? r0 + rows_per_task : R, thread);
  };
  parallel_for(ctx.pool, ctx.threads() > 1 && work >= double(kParallelElems), int(tasks), task);
}

/** Rows per task so that one task touches about kChunk floats of a row length D. */
static inline i64 rows_per_chunk(i64 D) {
  const i64 r = D > 0 ? kChunk / D : kChunk;
  return r < 1 ? 1 : r;
}
