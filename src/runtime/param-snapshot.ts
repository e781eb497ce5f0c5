// Parameter snapshot: the learner publishes its flat parameters (and the EMA value target) into
// shared memory; actors and evaluators copy the newest complete version out. Sample Factory's
// `policy_versions` counter, with the copy made safe against torn reads.
//
// Scheme: a double-buffered seqlock. Two data buffers, each with a sequence word and a version:
//
//   ctrl (Int32):  [ latest | seq0 | seq1 | version0 | version1 ]
//   data (Float32): buffer 0 [L] | buffer 1 [L]      L = params + value target
//
//   publish (learner, the only writer):        read (any number of readers):
//     b = 1 - latest                              b = latest; s = seq[b]; odd -> retry
//     seq[b]++            (odd: being written)    v = version[b]; copy buffer b
//     copy params into buffer b; version[b] = v   seq[b] still s? -> done, else retry
//     seq[b]++            (even: complete)
//     latest = b
//
// The writer never waits and never allocates; a reader copies the buffer that is NOT being
// written, so it only retries when the learner publishes twice during one copy. Why a seqlock
// and not a triple buffer with reader pins: readers here are actors that the supervisor may kill
// at any instruction (restart tests kill them mid-step); a killed reader holding a pin would
// take a buffer away from the writer for good, while a killed seqlock reader leaves nothing
// behind. The cost is a possible retry, which the sequence words detect exactly.
//
// Data races on the Float32 payload are allowed by the JS memory model (values may be torn, never
// undefined behaviour); the Atomics loads and stores of seq[] order them, which is what makes the
// check-after-copy sound.

const C_LATEST = 0;
const C_SEQ = 1; // +b
const C_VERSION = 3; // +b
const CTRL_WORDS = 8;

export interface SnapshotBuffers {
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /**
   * Floats per buffer: params then value target. targetLength is 0 when no reader plans with the
   * target (planner_ema_value=false): publish and read then skip it (a quarter of the bytes).
   */
  paramLength: number;
  targetLength: number;
}

/** What moves the floats: the owning thread's Engine (copy is a native memcpy) or TypedArray.set. */
export interface Copier {
  copy(n: number, src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number): void;
}

const typedArrayCopier: Copier = { copy: (n, src, srcOff, dst, dstOff) => dst.set(src.subarray(srcOff, srcOff + n), dstOff) };

export class ParamSnapshot {
  readonly ctrl: Int32Array;
  readonly data: Float32Array;
  readonly length: number;
  /** Reads that had to be redone because the buffer changed under the copy (diagnostics). */
  retries = 0;

  /** copier: the owner's engine (V8 copies SharedArrayBuffer data at about 2/3 of a native memcpy's speed). */
  constructor(readonly buffers: SnapshotBuffers, private readonly copier: Copier = typedArrayCopier) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.data = new Float32Array(buffers.data);
    this.length = buffers.paramLength + buffers.targetLength;
    if (this.data.length !== 2 * this.length) throw new RangeError(`param snapshot: data holds ${this.data.length} floats, expected 2 x ${this.length}`);
  }

  /** Allocates the shared buffers (main thread, before threads start). Version -1 = nothing published. */
  static allocate(paramLength: number, targetLength: number): SnapshotBuffers {
    const ctrl = new SharedArrayBuffer(CTRL_WORDS * 4);
    const c = new Int32Array(ctrl);
    c[C_VERSION] = -1;
    c[C_VERSION + 1] = -1;
    return { ctrl, data: new SharedArrayBuffer(2 * (paramLength + targetLength) * 4), paramLength, targetLength };
  }

  /** Version of the newest complete snapshot (-1 before the first publish). */
  latestVersion(): number {
    return Atomics.load(this.ctrl, C_VERSION + Atomics.load(this.ctrl, C_LATEST));
  }

  /** Learner: publishes params [paramLength] and target [targetLength; ignored when 0] as `version`. */
  publish(params: Float32Array, target: Float32Array, version: number): void {
    const { paramLength: P, targetLength: T } = this.buffers;
    this.checkLengths('publish got', params, target);
    const b = 1 - Atomics.load(this.ctrl, C_LATEST);
    const off = b * this.length;
    Atomics.add(this.ctrl, C_SEQ + b, 1); // odd: readers of buffer b retry
    this.copier.copy(P, params, 0, this.data, off);
    if (T > 0) this.copier.copy(T, target, 0, this.data, off + P);
    Atomics.store(this.ctrl, C_VERSION + b, version);
    Atomics.add(this.ctrl, C_SEQ + b, 1); // even: complete
    Atomics.store(this.ctrl, C_LATEST, b);
  }

  /**
   * Copies the newest complete snapshot into params/target (target untouched when targetLength is
   * 0) and returns its version, or returns `have` without copying when that version is already the
   * newest (-1: nothing published yet).
   */
  read(params: Float32Array, target: Float32Array, have = -2): number {
    const { paramLength: P, targetLength: T } = this.buffers;
    this.checkLengths('read into', params, target);
    for (;;) {
      const b = Atomics.load(this.ctrl, C_LATEST);
      const s = Atomics.load(this.ctrl, C_SEQ + b);
      if (s & 1) { this.retries++; continue; } // the writer lapped us onto this buffer; re-pick
      const v = Atomics.load(this.ctrl, C_VERSION + b);
      if (v === have || v < 0) return v < 0 ? -1 : v;
      const off = b * this.length;
      this.copier.copy(P, this.data, off, params, 0);
      if (T > 0) this.copier.copy(T, this.data, off + P, target, 0);
      if (Atomics.load(this.ctrl, C_SEQ + b) === s) return v;
      this.retries++;
    }
  }

  private checkLengths(what: string, params: Float32Array, target: Float32Array): void {
    const { paramLength: P, targetLength: T } = this.buffers;
    if (params.length !== P || (T > 0 && target.length !== T)) {
      throw new RangeError(`param snapshot: ${what} ${params.length}+${target.length} floats, expected ${P}+${T}`);
    }
  }
}
