// Replay buffer of episode slices, in memory that may be SharedArrayBuffer-backed (actors write,
// the learner samples). One ring per environment, so an episode's steps are contiguous in its ring
// and each ring has exactly one writer (the thread that steps that environment).
//
// Slot k of a ring holds observation o_k and what happened next:
//   obs[k] = o_k   action[k] = a_k   reward[k] = r_{k+1}   expertMean/Std[k] = planner distribution at o_k
//   flags[k]: TERMINATED if a_k ended the episode by termination, LAST if o_k is an episode's final
//   observation (then action/reward/expert are NaN: nothing was done from it).
//   episode[k] = episode id within the ring, version[k] = parameter version that chose a_k.
//
//   ring r (capacity C):      head = slots written so far (monotonic; slot index = head mod C)
//   ┌────┬────┬────┬────┬────┬────┬────┬────┐
//   │ e7 │ e7 │ e7L│ e8 │ e8 │ e8 │ e6 │ e6L│   L = LAST slot; the oldest slots are overwritten first
//   └────┴────┴────┴────┴────┴────┴────┴────┘
//                            ^ head mod C
// A training slice starting at slot s covers slots s..s+H: all in one episode, none of s..s+H-1 LAST
// (o_{s+H} may be the final observation), all committed and none being rewritten.
//
// Commit protocol (seqlock per slot): the writer bumps generation[k] to odd, writes the slot, bumps
// it to even, then publishes head. A reader copies a slice, then re-checks the generations: any
// change means the slot was being rewritten and the sample is redrawn. Reanalysis writes expert
// values back only if the generation is unchanged since the sample: it swaps generation g for the
// lock value -(g+1) (odd, so readers skip the slot; negative, so the writer knows it is not its
// own), writes, and restores g. A writer that finds the lock waits for it (microseconds) instead of
// overwriting under the reanalysis write. A positive odd generation at a ring's head is a write
// that never finished (its thread was killed): recoverRing() closes it before a new writer starts;
// the slot is at position head - C, outside every valid slice, until it is rewritten.
import type { F32 } from '../engine/engine.js';
import type { RngStream } from '../engine/rng.js';

export const FLAG_TERMINATED = 1;
export const FLAG_LAST = 2;

/** Header words per ring (Int32): head (slots written), episode counter. */
const HEADER_WORDS = 4;
const H_HEAD = 0;
const H_EPISODE = 1;

export interface ReplayShape {
  numRings: number;
  /** Slots per ring. */
  ringCapacity: number;
  obsDim: number;
  actionDim: number;
}

/** The typed-array views of a replay buffer; backed by ArrayBuffer or SharedArrayBuffer. */
export interface ReplayStorage {
  obs: F32; // [rings*C, O]
  action: F32; // [rings*C, A]
  reward: F32; // [rings*C]
  expertMean: F32; // [rings*C, A]
  expertStd: F32; // [rings*C, A]
  flags: Uint8Array; // [rings*C]
  episode: Int32Array; // [rings*C]
  version: Int32Array; // [rings*C]
  generation: Int32Array; // [rings*C]
  header: Int32Array; // [rings, HEADER_WORDS]
}

/**
 * The same storage with every view spanning its whole buffer. A worker must call this on the
 * storage it receives: Node's structured clone (workerData) keeps a SharedArrayBuffer whole but
 * cuts a view's byte length to 32 bits, so a column above 4 GiB (obs of 16M+ humanoid transitions)
 * arrived shorter and the actor's first write past the cut threw "offset is out of bounds".
 */
export function wholeReplayViews(s: ReplayStorage): ReplayStorage {
  return {
    obs: new Float32Array(s.obs.buffer), action: new Float32Array(s.action.buffer), reward: new Float32Array(s.reward.buffer),
    expertMean: new Float32Array(s.expertMean.buffer), expertStd: new Float32Array(s.expertStd.buffer),
    flags: new Uint8Array(s.flags.buffer), episode: new Int32Array(s.episode.buffer), version: new Int32Array(s.version.buffer),
    generation: new Int32Array(s.generation.buffer), header: new Int32Array(s.header.buffer),
  };
}

/** Values per slot of each storage column (the header is per ring, not per slot). */
export type SlotColumn = Exclude<keyof ReplayStorage, 'header'>;
export function slotWidths(s: ReplayShape): Record<SlotColumn, number> {
  const A = s.actionDim;
  return { obs: s.obsDim, action: A, reward: 1, expertMean: A, expertStd: A, flags: 1, episode: 1, version: 1, generation: 1 };
}

/** Int32 words of the ring header (per ring) and the word holding its head, for checkpoints. */
export const RING_HEADER_WORDS = HEADER_WORDS;
export const RING_HEAD_WORD = H_HEAD;

export function replayBytes(s: ReplayShape): number {
  const n = s.numRings * s.ringCapacity;
  return n * (4 * (s.obsDim + 3 * s.actionDim + 1) + 1 + 12) + s.numRings * HEADER_WORDS * 4;
}

/** Allocates storage (shared = SharedArrayBuffer for the threaded runtime). Fresh data is NaN. */
export function allocateReplayStorage(s: ReplayShape, shared: boolean): ReplayStorage {
  const n = s.numRings * s.ringCapacity;
  const mk = (bytes: number) => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const f32 = (len: number) => new Float32Array(mk(len * 4)).fill(NaN);
  return {
    obs: f32(n * s.obsDim),
    action: f32(n * s.actionDim),
    reward: f32(n),
    expertMean: f32(n * s.actionDim),
    expertStd: f32(n * s.actionDim),
    flags: new Uint8Array(mk(n)),
    episode: new Int32Array(mk(n * 4)).fill(-1),
    version: new Int32Array(mk(n * 4)),
    generation: new Int32Array(mk(n * 4)),
    header: new Int32Array(mk(s.numRings * HEADER_WORDS * 4)),
  };
}

/** A sampled batch, time-major like the update expects. Dims: T = H+1 steps, B = batch. */
export interface ReplayBatch {
  B: number;
  H: number;
  obs: F32; // [H+1, B, O]
  action: F32; // [H, B, A]
  reward: F32; // [H, B]
  terminated: F32; // [H, B] 1 if a_t ended the episode by termination
  expertMean: F32; // [H+1, B, A] (NaN at a final observation)
  expertStd: F32; // [H+1, B, A]
  /** Global slot index of each slice's first step, and the generations seen, for write-back. */
  start: Int32Array; // [B]
  generation: Int32Array; // [H+1, B]
  /** Policy lag bookkeeping: parameter version of each slice's first action. */
  version: Int32Array; // [B]
}

export function allocateBatch(B: number, H: number, obsDim: number, actionDim: number): ReplayBatch {
  return {
    B, H,
    obs: new Float32Array((H + 1) * B * obsDim),
    action: new Float32Array(H * B * actionDim),
    reward: new Float32Array(H * B),
    terminated: new Float32Array(H * B),
    expertMean: new Float32Array((H + 1) * B * actionDim),
    expertStd: new Float32Array((H + 1) * B * actionDim),
    start: new Int32Array(B),
    generation: new Int32Array((H + 1) * B),
    version: new Int32Array(B),
  };
}

export class ReplayBuffer {
  private readonly heads: Float64Array; // per-ring head snapshot of the current sample() call

  constructor(readonly shape: ReplayShape, readonly data: ReplayStorage) {
    this.heads = new Float64Array(shape.numRings);
  }

  static create(shape: ReplayShape, shared = false): ReplayBuffer {
    if (shape.ringCapacity < 2) throw new RangeError(`replay: ring capacity must be >= 2, got ${shape.ringCapacity}`);
    return new ReplayBuffer(shape, allocateReplayStorage(shape, shared));
  }

  /** Slots written to ring r so far (monotonic). */
  head(r: number): number {
    return Atomics.load(this.data.header, r * HEADER_WORDS + H_HEAD);
  }

  /** Total committed slots over all rings (insert count). */
  totalInserted(): number {
    let n = 0;
    for (let r = 0; r < this.shape.numRings; r++) n += this.head(r);
    return n;
  }

  /** Committed slots currently held (≤ capacity). */
  size(): number {
    let n = 0;
    for (let r = 0; r < this.shape.numRings; r++) n += Math.min(this.head(r), this.shape.ringCapacity);
    return n;
  }

  /** Starts a new episode in ring r and returns its id (called by the ring's writer). */
  beginEpisode(r: number): number {
    return Atomics.add(this.data.header, r * HEADER_WORDS + H_EPISODE, 1);
  }

  /**
   * Appends one slot to ring r (only the ring's writer may call this). action/expert may be null
   * for a final observation (flags must then include FLAG_LAST).
   */
  append(
    r: number, episodeId: number, obs: F32, obsOff: number,
    action: F32 | null, actionOff: number, reward: number, flags: number,
    expertMean: F32 | null, expertStd: F32 | null, expertOff: number, version: number,
  ): void {
    const { ringCapacity: C, obsDim: O, actionDim: A } = this.shape;
    const d = this.data;
    const head = this.head(r);
    const slot = r * C + (head % C);
    beginWrite(d.generation, slot); // odd: being written
    d.obs.set(obs.subarray(obsOff, obsOff + O), slot * O);
    if (action) d.action.set(action.subarray(actionOff, actionOff + A), slot * A);
    else d.action.fill(NaN, slot * A, slot * A + A);
    d.reward[slot] = action ? reward : NaN;
    if (expertMean && expertStd) {
      d.expertMean.set(expertMean.subarray(expertOff, expertOff + A), slot * A);
      d.expertStd.set(expertStd.subarray(expertOff, expertOff + A), slot * A);
    } else {
      d.expertMean.fill(NaN, slot * A, slot * A + A);
      d.expertStd.fill(NaN, slot * A, slot * A + A);
    }
    d.flags[slot] = flags;
    d.episode[slot] = episodeId;
    d.version[slot] = version;
    Atomics.add(d.generation, slot, 1); // even: committed
    Atomics.store(d.header, r * HEADER_WORDS + H_HEAD, head + 1);
  }

  /**
   * Ring-relative validity of a slice of H+1 slots starting at absolute position p (0 <= p < head):
   * all positions written, still held, same episode, no LAST before the end, none being written.
   */
  private validStart(r: number, p: number, H: number, head: number): boolean {
    const C = this.shape.ringCapacity;
    // Keep one slot of margin behind the writer's next overwrite.
    if (p + H >= head || p < head - C + 1) return false;
    const d = this.data;
    const base = r * C;
    const ep = d.episode[base + (p % C)];
    for (let t = 0; t <= H; t++) {
      const slot = base + ((p + t) % C);
      if (d.episode[slot] !== ep || d.generation[slot] & 1) return false;
      if (t < H && d.flags[slot] & FLAG_LAST) return false;
    }
    return true;
  }

  /** Number of slots in ring r from which a valid slice could start (upper bound, for min-size checks). */
  canSample(H: number): boolean {
    for (let r = 0; r < this.shape.numRings; r++) if (this.head(r) > H + 1) return true;
    return false;
  }

  /**
   * Samples batch.B slices of H+1 steps uniformly over valid starts (rejection sampling over all
   * held slots), copying them time-major into batch. Deterministic given rng's state.
   */
  sample(batch: ReplayBatch, rng: RngStream): void {
    const { numRings, ringCapacity: C, obsDim: O, actionDim: A } = this.shape;
    const { B, H } = batch;
    const d = this.data;
    // Snapshot heads once per batch so the candidate range is fixed while sampling.
    let total = 0;
    const heads = this.heads;
    for (let r = 0; r < numRings; r++) { heads[r] = this.head(r); total += Math.min(heads[r], C); }
    if (!this.canSample(H)) throw new RangeError(`replay: no complete slice of ${H + 1} steps yet (size ${this.size()})`);
    for (let b = 0; b < B; b++) {
      for (let attempt = 0; ; attempt++) {
        if (attempt > 10_000) throw new RangeError(`replay: could not find a valid slice of ${H + 1} steps in ${total} slots`);
        let k = rng.int(total);
        let r = 0;
        while (k >= Math.min(heads[r], C)) { k -= Math.min(heads[r], C); r++; }
        const p = Math.max(0, heads[r] - C) + k; // absolute position in ring r
        if (!this.validStart(r, p, H, heads[r])) continue;
        const base = r * C;
        for (let t = 0; t <= H; t++) {
          const slot = base + ((p + t) % C);
          batch.generation[t * B + b] = d.generation[slot];
          batch.obs.set(d.obs.subarray(slot * O, slot * O + O), (t * B + b) * O);
          batch.expertMean.set(d.expertMean.subarray(slot * A, slot * A + A), (t * B + b) * A);
          batch.expertStd.set(d.expertStd.subarray(slot * A, slot * A + A), (t * B + b) * A);
          if (t < H) {
            batch.action.set(d.action.subarray(slot * A, slot * A + A), (t * B + b) * A);
            batch.reward[t * B + b] = d.reward[slot];
            batch.terminated[t * B + b] = d.flags[slot] & FLAG_TERMINATED ? 1 : 0;
          }
        }
        // Seqlock re-check: a slot rewritten while we copied invalidates the sample.
        let torn = false;
        for (let t = 0; t <= H && !torn; t++) {
          if (Atomics.load(d.generation, base + ((p + t) % C)) !== batch.generation[t * B + b]) torn = true;
        }
        if (torn) continue;
        batch.start[b] = base + (p % C);
        batch.version[b] = d.version[base + (p % C)];
        break;
      }
    }
  }

  /**
   * Writes re-planned expert distributions back for step t of slice b of a sampled batch, only if
   * the slot still holds the same data (generation unchanged). Returns whether it was written.
   */
  writeBackExpert(batch: ReplayBatch, b: number, t: number, mean: F32, std: F32, off: number): boolean {
    const { ringCapacity: C, actionDim: A } = this.shape;
    const start = batch.start[b];
    const r = Math.floor(start / C);
    const slot = r * C + (((start - r * C) + t) % C);
    const d = this.data;
    const g = batch.generation[t * batch.B + b];
    // Lock the slot only if it still holds the sampled data (same even generation).
    if (Atomics.compareExchange(d.generation, slot, g, -(g + 1)) !== g) return false;
    d.expertMean.set(mean.subarray(off, off + A), slot * A);
    d.expertStd.set(std.subarray(off, off + A), slot * A);
    Atomics.store(d.generation, slot, g);
    Atomics.notify(d.generation, slot);
    return true;
  }

  /**
   * Before a new writer takes over ring r (its previous writer thread died): a write that never
   * finished leaves the head slot's generation odd; make it even again. That slot sits at position
   * head - C, which no valid slice includes, and the next append rewrites it. Returns whether a
   * torn write was found.
   */
  recoverRing(r: number): boolean {
    const slot = r * this.shape.ringCapacity + (this.head(r) % this.shape.ringCapacity);
    const g = Atomics.load(this.data.generation, slot);
    if (g > 0 && g & 1) {
      Atomics.store(this.data.generation, slot, g + 1);
      return true;
    }
    return false;
  }

  /**
   * Fills this fresh buffer from a saved one (a checkpoint's, on resume) with the same rings and
   * savedCapacity <= this ring capacity. Equal capacities: a plain copy, so a resumed run samples
   * exactly like the uninterrupted one. Larger (resumed with more steps, which sizes the replay):
   * the positions validStart accepts (p >= head - savedCapacity + 1) move, in order, to the start of
   * the larger ring and its head becomes their count. A ring that never filled (head < savedCapacity)
   * lands slot for slot; a full one drops its oldest held position, which no valid slice includes
   * (it is the writer's next slot and may hold a write torn by a killed actor, see recoverRing).
   * Episode ids, episode counters and generations are kept as they are: ids stay unique per ring
   * and any even generation is a committed slot.
   *
   *   saved, C=4, head 6 (wrapped)        grown, C=8, head 3
   *   ┌────┬────┬────┬────┐               ┌────┬────┬────┬────┬────┬─
   *   │ p4 │ p5 │ p2 │ p3 │      ──►      │ p3 │ p4 │ p5 │ NaN│ NaN│ …   (p2: the writer's next slot)
   *   └────┴────┴────┴────┘               └────┴────┴────┴────┴────┴─
   */
  restoreFrom(saved: ReplayStorage, savedCapacity: number): void {
    const { numRings, ringCapacity: C } = this.shape;
    const d = this.data;
    if (savedCapacity === C) {
      for (const [name, arr] of Object.entries(d)) (arr as Float32Array).set(saved[name as keyof ReplayStorage] as Float32Array);
      return;
    }
    if (savedCapacity > C || savedCapacity < 2) throw new RangeError(`replay: cannot restore rings of ${savedCapacity} slots into rings of ${C} (they may only grow)`);
    d.header.set(saved.header);
    const widths = Object.entries(slotWidths(this.shape)) as [SlotColumn, number][];
    for (let r = 0; r < numRings; r++) {
      const head = saved.header[r * HEADER_WORDS + H_HEAD];
      const first = Math.max(0, head - savedCapacity + 1);
      for (const [name, w] of widths) {
        const src = saved[name] as Float32Array;
        const dst = d[name] as Float32Array;
        // Positions first..head-1 sit in saved slots p mod savedCapacity: at most two runs, split by the wrap.
        for (let p = first; p < head;) {
          const s = p % savedCapacity;
          const n = Math.min(head - p, savedCapacity - s);
          dst.set(src.subarray((r * savedCapacity + s) * w, (r * savedCapacity + s + n) * w), (r * C + p - first) * w);
          p += n;
        }
      }
      d.header[r * HEADER_WORDS + H_HEAD] = head - first;
    }
  }

  /** Ring header words, for checkpoints. */
  headerWords(): Int32Array {
    return this.data.header;
  }
}

/**
 * Writer side of the slot lock: even generation g -> g + 1 (odd). A negative generation is a
 * reanalysis write-back in progress (held for a few hundred nanoseconds); wait for its release.
 * Uncontended (always, in the synchronous loop) this is one compare-exchange, like an add.
 */
function beginWrite(gen: Int32Array, slot: number): void {
  for (;;) {
    const g = Atomics.load(gen, slot);
    if (g < 0) {
      Atomics.wait(gen, slot, g, 1);
      continue;
    }
    if (Atomics.compareExchange(gen, slot, g, g + 1) === g) return;
  }
}
