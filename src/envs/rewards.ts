// dm_control's reward shaping (dm_control/utils/rewards.py), scalar and allocation-free: task
// rewards call these once or twice per control step, so arguments are positional numbers rather
// than option objects.
import { EnvError } from '../errors.js';

export type Sigmoid = 'gaussian' | 'hyperbolic' | 'long_tail' | 'reciprocal' | 'cosine' | 'linear' | 'quadratic' | 'tanh_squared';

/**
 * A sigmoid-like function of x >= 0 (a distance in units of the margin) that is 1 at x = 0 and
 * `valueAt1` at x = 1. Shapes with a finite support (cosine, linear, quadratic) reach 0 past it.
 */
export function sigmoid(x: number, valueAt1: number, kind: Sigmoid): number {
  switch (kind) {
    case 'gaussian': {
      checkOpen(valueAt1, kind);
      const scale = Math.sqrt(-2 * Math.log(valueAt1));
      return Math.exp(-0.5 * (x * scale) * (x * scale));
    }
    case 'hyperbolic': {
      checkOpen(valueAt1, kind);
      const scale = Math.acosh(1 / valueAt1);
      return 1 / Math.cosh(x * scale);
    }
    case 'long_tail': {
      checkOpen(valueAt1, kind);
      const scale = Math.sqrt(1 / valueAt1 - 1);
      return 1 / ((x * scale) * (x * scale) + 1);
    }
    case 'reciprocal': {
      checkOpen(valueAt1, kind);
      const scale = 1 / valueAt1 - 1;
      return 1 / (Math.abs(x) * scale + 1);
    }
    case 'cosine': {
      checkHalfOpen(valueAt1, kind);
      const scaled = x * (Math.acos(2 * valueAt1 - 1) / Math.PI);
      return Math.abs(scaled) < 1 ? (1 + Math.cos(Math.PI * scaled)) / 2 : 0;
    }
    case 'linear': {
      checkHalfOpen(valueAt1, kind);
      const scaled = x * (1 - valueAt1);
      return Math.abs(scaled) < 1 ? 1 - scaled : 0;
    }
    case 'quadratic': {
      checkHalfOpen(valueAt1, kind);
      const scaled = x * Math.sqrt(1 - valueAt1);
      return Math.abs(scaled) < 1 ? 1 - scaled * scaled : 0;
    }
    case 'tanh_squared': {
      checkOpen(valueAt1, kind);
      const t = Math.tanh(x * Math.atanh(Math.sqrt(1 - valueAt1)));
      return 1 - t * t;
    }
    default:
      throw new EnvError(`unknown sigmoid '${String(kind)}': use gaussian, hyperbolic, long_tail, reciprocal, cosine, linear, quadratic or tanh_squared`);
  }
}

function checkOpen(v: number, kind: Sigmoid): void {
  if (!(v > 0 && v < 1)) throw new EnvError(`sigmoid '${kind}' needs 0 < value_at_margin < 1 (got ${v})`);
}

function checkHalfOpen(v: number, kind: Sigmoid): void {
  if (!(v >= 0 && v < 1)) throw new EnvError(`sigmoid '${kind}' needs 0 <= value_at_margin < 1 (got ${v})`);
}

/**
 * dm_control's rewards.tolerance: 1 when lower <= x <= upper; outside, 0 if margin is 0, else the
 * sigmoid of (distance to the nearest bound / margin), which equals valueAtMargin one margin away.
 */
export function tolerance(
  x: number,
  lower = 0,
  upper = 0,
  margin = 0,
  kind: Sigmoid = 'gaussian',
  valueAtMargin = 0.1,
): number {
  if (lower > upper) throw new EnvError(`tolerance bounds must satisfy lower <= upper (got ${lower} > ${upper})`);
  if (margin < 0) throw new EnvError(`tolerance margin must be non-negative (got ${margin})`);
  if (lower <= x && x <= upper) return 1;
  if (margin === 0) return 0;
  const d = (x < lower ? lower - x : x - upper) / margin;
  return sigmoid(d, valueAtMargin, kind);
}
