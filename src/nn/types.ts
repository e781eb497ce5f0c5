// Options shared by every network's forward/backward (see mlp.ts for the calling convention).
import { ConfigError, ShapeError } from '../errors.js';
import type { F32 } from '../engine/engine.js';

export interface ForwardOptions {
  /** Training mode: dropout masks are drawn (needs seed and counter). Default false (inference). */
  train?: boolean;
  /** Dropout RNG: the pass consumes counters [counter, counter + net.dropoutCount(R)) under seed. */
  seed?: number;
  counter?: number;
  /**
   * Alternate parameter array, e.g. the EMA target of the value ensemble. A tensor at absolute
   * offset o in the store is read at params[o + shift]; for a segment-shaped copy pass
   * shift = -segment.offset (WorldModel.targetOptions does this). Default: the store's params, shift 0.
   */
  params?: F32;
  shift?: number;
}

export interface BackwardOptions {
  /**
   * Where parameter gradients accumulate (address o + gradShift). Default: the store's grads.
   * null = detached: gradients still flow to the inputs (dx), parameter gradients go to a sink.
   */
  grads?: F32 | null;
  gradShift?: number;
}

/** Parameter binding recorded by a forward pass and reused by its backward pass. */
export interface ParamRef {
  P: F32;
  shift: number;
}

export function checkRows(what: string, R: number, maxRows: number): void {
  if (!Number.isInteger(R) || R < 1 || R > maxRows) {
    throw new ShapeError(`${what}: rows R=${R} must be an integer in [1, ${maxRows}] (the context's maxRows)`);
  }
}

export function dropoutRng(what: string, opts: ForwardOptions): { seed: number; counter: number } {
  if (opts.seed === undefined || opts.counter === undefined) {
    throw new ConfigError(`${what}: train mode with dropout needs opts.seed and opts.counter (counter-RNG dropout masks)`);
  }
  return { seed: opts.seed, counter: opts.counter };
}
