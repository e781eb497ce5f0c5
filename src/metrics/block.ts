// Shared metrics blocks: every worker thread counts into its own block of shared memory (one
// writer per block), and the main thread copies the blocks when Prometheus scrapes. Counting is a
// few plain stores per step, no messages and no locks, so metrics cost the workers nothing; the
// scrape sees each block whole because the block is a seqlock:
//
//   i32[0] = seq (odd while the writer is inside begin()..end())
//   f64[1 ..]  scalars (counters, gauges) | histograms: buckets..., +Inf, sum, count | int histograms
//
// A reader copies the block and retries if seq was odd or changed. A writer killed between begin()
// and end() leaves seq odd; the supervisor calls repair() after that thread has exited.
//
// Float64 slots hold counters exactly up to 2^53.

export interface BlockSpec {
  /** Counter and gauge slots, by name. */
  scalars: readonly string[];
  /** Latency-style histograms: name -> upper bounds (ascending, +Inf implied). */
  histograms: Readonly<Record<string, readonly number[]>>;
  /** Exact histograms of small non-negative integers: name -> max (values above go to the last slot). */
  intHistograms: Readonly<Record<string, number>>;
}

export class BlockLayout {
  readonly slots = new Map<string, number>();
  /** name -> [first slot, bucket count incl. +Inf]; sum and count follow the buckets. */
  readonly hist = new Map<string, { off: number; bounds: readonly number[] }>();
  readonly intHist = new Map<string, { off: number; max: number }>();
  /** Float64 words, including the one holding the seq word. */
  readonly words: number;

  constructor(readonly spec: BlockSpec) {
    let w = 1; // word 0: seq (as Int32 at byte 0)
    for (const name of spec.scalars) this.slots.set(name, w++);
    for (const [name, bounds] of Object.entries(spec.histograms)) {
      for (let i = 1; i < bounds.length; i++) if (!(bounds[i] > bounds[i - 1])) throw new RangeError(`histogram ${name}: bounds must increase`);
      this.hist.set(name, { off: w, bounds });
      w += bounds.length + 1 + 2;
    }
    for (const [name, max] of Object.entries(spec.intHistograms)) {
      this.intHist.set(name, { off: w, max });
      w += max + 1 + 2;
    }
    this.words = w;
  }

  /** Every scalar's slot by name (writers look slots up once, then store by index). */
  slotIndex(): Record<string, number> {
    return Object.fromEntries(this.slots);
  }

  slot(name: string): number {
    const s = this.slots.get(name);
    if (s === undefined) throw new RangeError(`metrics block has no scalar '${name}'`);
    return s;
  }

  bytes(): number {
    return this.words * 8;
  }
}

/** The writer's view (one thread). */
export class BlockWriter {
  readonly f64: Float64Array;
  private readonly seq: Int32Array;

  constructor(readonly layout: BlockLayout, readonly buffer: SharedArrayBuffer) {
    this.f64 = new Float64Array(buffer);
    this.seq = new Int32Array(buffer, 0, 1);
    if (this.f64.length !== layout.words) throw new RangeError(`metrics block holds ${this.f64.length} words, layout needs ${layout.words}`);
  }

  begin(): void {
    Atomics.add(this.seq, 0, 1);
  }

  end(): void {
    Atomics.add(this.seq, 0, 1);
  }

  add(slot: number, v: number): void {
    this.f64[slot] += v;
  }

  set(slot: number, v: number): void {
    this.f64[slot] = v;
  }

  get(slot: number): number {
    return this.f64[slot];
  }

  observe(name: string, v: number): void {
    const h = this.layout.hist.get(name)!;
    const b = h.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.f64[h.off + i] += 1;
    this.f64[h.off + b.length + 1] += v;
    this.f64[h.off + b.length + 2] += 1;
  }

  observeInt(name: string, v: number): void {
    const h = this.layout.intHist.get(name)!;
    const k = Math.max(0, Math.min(h.max, Math.round(v)));
    this.f64[h.off + k] += 1;
    this.f64[h.off + h.max + 1] += v;
    this.f64[h.off + h.max + 2] += 1;
  }
}

/** A consistent copy of a block (main thread, at scrape time). */
export class BlockSnapshot {
  constructor(readonly layout: BlockLayout, readonly f64: Float64Array) {}

  scalar(name: string): number {
    return this.f64[this.layout.slot(name)];
  }

  /** Cumulative bucket counts (Prometheus `le` semantics), sum and count. */
  histogram(name: string): { bounds: readonly number[]; cumulative: number[]; sum: number; count: number } {
    const h = this.layout.hist.get(name);
    if (!h) throw new RangeError(`metrics block has no histogram '${name}'`);
    const n = h.bounds.length + 1;
    const cumulative: number[] = [];
    let acc = 0;
    for (let i = 0; i < n; i++) cumulative.push((acc += this.f64[h.off + i]));
    return { bounds: h.bounds, cumulative, sum: this.f64[h.off + n], count: this.f64[h.off + n + 1] };
  }

  /** Per-value counts [max + 1] (last = max and above), sum and count. */
  intHistogram(name: string): { counts: Float64Array; sum: number; count: number } {
    const h = this.layout.intHist.get(name);
    if (!h) throw new RangeError(`metrics block has no int histogram '${name}'`);
    return {
      counts: this.f64.subarray(h.off, h.off + h.max + 1),
      sum: this.f64[h.off + h.max + 1],
      count: this.f64[h.off + h.max + 2],
    };
  }
}

/** Σ of one scalar over several blocks (e.g. a counter over all actors). */
export function sumScalars(blocks: readonly BlockSnapshot[], name: string): number {
  return blocks.reduce((s, b) => s + b.scalar(name), 0);
}

export function allocateBlock(layout: BlockLayout): SharedArrayBuffer {
  return new SharedArrayBuffer(layout.bytes());
}

/**
 * Copies a block under its seqlock. A writer preempted inside begin()..end() (more busy threads than
 * cores) is waited for, sleeping 0.1 ms at a time, up to `maxWaitMs`; a writer that never ends (its
 * thread died mid-update, before repairBlock) gets the last copy as is.
 */
export function readBlock(layout: BlockLayout, buffer: SharedArrayBuffer, maxWaitMs = 200): BlockSnapshot {
  const seq = new Int32Array(buffer, 0, 1);
  const src = new Float64Array(buffer);
  const out = new Float64Array(layout.words);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = performance.now() + maxWaitMs;
  for (let i = 0; ; i++) {
    const s = Atomics.load(seq, 0);
    out.set(src);
    if (!(s & 1) && Atomics.load(seq, 0) === s) break;
    if (performance.now() > deadline) break;
    if (i >= 100) Atomics.wait(nap, 0, 0, 0.1);
  }
  return new BlockSnapshot(layout, out);
}

/** After the block's writer thread has exited: closes a begin() it never ended. */
export function repairBlock(buffer: SharedArrayBuffer): void {
  const seq = new Int32Array(buffer, 0, 1);
  if (Atomics.load(seq, 0) & 1) Atomics.add(seq, 0, 1);
}

/** Merges histogram snapshots of several blocks (same bounds). */
export function sumHistograms(parts: { bounds: readonly number[]; cumulative: number[]; sum: number; count: number }[]) {
  const first = parts[0];
  const cumulative = first.cumulative.map(() => 0);
  let sum = 0;
  let count = 0;
  for (const p of parts) {
    for (let i = 0; i < cumulative.length; i++) cumulative[i] += p.cumulative[i];
    sum += p.sum;
    count += p.count;
  }
  return { bounds: first.bounds, cumulative, sum, count };
}
