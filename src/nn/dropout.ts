// Dropout masks from the counter RNG: mask[i] = 0 with probability p, else 1/(1-p) (inverted
// dropout, so inference needs no rescale). Element i uses counter `counter + i` under `seed`, so a
// mask is reproducible from (seed, counter) and independent of threads and call splitting.
import type { Engine, F32 } from '../engine/engine.js';

/** mask [n] at maskOff; consumes counters [counter, counter + n). */
export function dropoutMask(
  engine: Engine, n: number, p: number, seed: number, counter: number, mask: F32, maskOff: number,
): void {
  engine.randomUniform(n, seed, counter, 0, 1, mask, maskOff);
  const keep = 1 / (1 - p);
  for (let i = maskOff, end = maskOff + n; i < end; i++) mask[i] = mask[i] < p ? 0 : keep;
}
