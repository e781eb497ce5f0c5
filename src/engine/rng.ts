// Counter-based random numbers: the value at counter c under seed s is a pure function of (s, c),
// so results do not depend on thread count, call splitting or order. This file is the definition;
// the native engine implements the same formulas and tests compare the two (uniform bit-exact,
// normal within 1e-6, since log/cos may differ in the last bit between libm and V8).
//
// Per element with counter c (integer, 0 <= c < 2^53): lo = c mod 2^32, hi = floor(c / 2^32).
//   word(s, c, lane):
//     key = hash32((s + lane * 0x9E3779B9) mod 2^32)
//     h   = hash32(lo XOR key)
//     h   = hash32(h XOR hi XOR 0x5BD1E995)
//     h   = hash32((h + key) mod 2^32)
//   uniform:  u = (word(s,c,0) >>> 8) * 2^-24                  in [0, 1); value = lo + (hi - lo) * u
//   normal:   u1 = ((word(s,c,0) >>> 8) + 1) * 2^-24          in (0, 1]
//             u2 = (word(s,c,1) >>> 8) * 2^-24                 in [0, 1)
//             z  = sqrt(-2 ln u1) * cos(2π u2);  value = mean + std * z
// All arithmetic on values is in float64; the result is rounded to float32 once when stored.
// hash32 is the "lowbias32" integer hash (Chris Wellons, public domain).

export function hash32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_NEG_24 = 1 / 16777216;

export function rngKey(seed: number, lane: number): number {
  return hash32((seed + Math.imul(lane, 0x9e3779b9)) >>> 0);
}

export function rngWord(key: number, counter: number): number {
  const lo = counter >>> 0; // counter mod 2^32 (exact for counters < 2^53)
  const hi = Math.floor(counter / TWO_POW_32) >>> 0;
  let h = hash32((lo ^ key) >>> 0);
  h = hash32((h ^ hi ^ 0x5bd1e995) >>> 0);
  return hash32((h + key) >>> 0);
}

/** Uniform in [0, 1) for (seed, counter). */
export function uniformAt(seed: number, counter: number): number {
  return (rngWord(rngKey(seed, 0), counter) >>> 8) * TWO_POW_NEG_24;
}

/** Standard normal for (seed, counter). */
export function normalAt(seed: number, counter: number): number {
  const u1 = ((rngWord(rngKey(seed, 0), counter) >>> 8) + 1) * TWO_POW_NEG_24;
  const u2 = (rngWord(rngKey(seed, 1), counter) >>> 8) * TWO_POW_NEG_24;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * A seeded stream for host-side code (planner sampling, replay sampling, env seeding): it hands
 * out counter ranges so that every consumer's draws are reproducible and checkpointable (the whole
 * state is {seed, counter}).
 */
export class RngStream {
  constructor(public seed: number, public counter = 0) {
    this.seed = seed >>> 0;
  }
  /** Reserves n counters and returns the first. */
  take(n: number): number {
    const c = this.counter;
    this.counter += n;
    return c;
  }
  uniform(): number {
    return uniformAt(this.seed, this.take(1));
  }
  normal(): number {
    return normalAt(this.seed, this.take(1));
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }
  state(): { seed: number; counter: number } {
    return { seed: this.seed, counter: this.counter };
  }
}
