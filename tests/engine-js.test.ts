// The JS reference backend against naive float64 code, hand-computed values and central finite
// differences (llm.c's fake loss L = Σ out·dout, evaluated in float64 by passing Float64Array
// buffers through the engine, which is precision-generic by design).
import { describe, expect, it } from 'vitest';
import { ACT_MISH, ACT_NONE, ACT_SIMNORM, type Activation, type F32 } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { normalAt, uniformAt } from '../src/engine/rng.js';
import { ShapeError } from '../src/errors.js';
import { checkBuffer, checkDims } from '../src/engine/validate.js';

const js = new JsEngine(2);

/** Float64Array viewed as the engine's F32 type (the engine only reads and writes elements). */
const f = (a: Float64Array): F32 => a as unknown as F32;

let dataCounter = 0;
/** Deterministic test data in [-scale, scale). */
function rand(n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * uniformAt(12345, dataCounter++) - 1) * scale;
  return a;
}

function expectClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e) - (rel * Math.max(Math.abs(a), Math.abs(e)) + abs);
    if (!(err <= worst) || Number.isNaN(a) !== Number.isNaN(e)) {
      worst = Number.isNaN(err) ? Infinity : err;
      worstAt = i;
    }
  }
  if (worstAt >= 0) {
    expect.fail(`${label}[${worstAt}] = ${actual[worstAt]} but expected ${expected[worstAt]} (rel ${rel}, abs ${abs})`);
  }
}

/** Central-difference gradient of loss() w.r.t. every element of p (p is restored). */
function numericGrad(p: Float64Array, loss: () => number, h = 1e-5): Float64Array {
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const old = p[i]!;
    p[i] = old + h;
    const lp = loss();
    p[i] = old - h;
    const lm = loss();
    p[i] = old;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** grad - prefill: backward kernels accumulate, so tests prefill gradients and subtract. */
function minus(a: Float64Array, c: number): Float64Array {
  return a.map((x) => x - c);
}

const PREFILL = 0.25;
const FD_REL = 1e-6;
const FD_ABS = 1e-9;

// ------------------------------------------------------------------ GEMM

function naiveGemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float64Array, B: Float64Array, C0: Float64Array, bias: Float64Array | null, accumulate: boolean,
): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i]! : A[i * K + k]!;
        const b = transB ? B[j * K + k]! : B[k * N + j]!;
        s += a * b;
      }
      if (bias) s += bias[j]!;
      if (accumulate) s += C0[i * N + j]!;
      C[i * N + j] = s;
    }
  }
  return C;
}

describe('gemm', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [7, 33, 5], [33, 7, 33], [1, 7, 33], [5, 1, 7]];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`matches naive float64 (transA=${transA} transB=${transB}) with bias/accumulate/offsets`, () => {
        for (const [M, N, K] of shapes) {
          for (const withBias of [false, true]) {
            for (const accumulate of [false, true]) {
              const A = rand(M * K + 3);
              const B = rand(K * N + 2);
              const C = rand(M * N + 4);
              const bias = withBias ? rand(N + 1) : null;
              const expected = naiveGemm(
                transA, transB, M, N, K, A.subarray(3), B.subarray(2), C.subarray(4), bias ? bias.subarray(1) : null, accumulate,
              );
              js.gemm(transA, transB, M, N, K, f(A), 3, f(B), 2, f(C), 4, bias ? f(bias) : null, 1, accumulate);
              expectClose(`C ${M}x${N}x${K}`, C.subarray(4), expected, 1e-13, 1e-14);
              // float32 buffers: same math, rounded once per stored element
              const C32 = new Float32Array(M * N);
              js.gemm(transA, transB, M, N, K, new Float32Array(A.subarray(3)), 0, new Float32Array(B.subarray(2)), 0, C32, 0,
                bias ? new Float32Array(bias.subarray(1)) : null, 0, false);
              const ref32 = naiveGemm(transA, transB, M, N, K, new Float64Array(new Float32Array(A.subarray(3))),
                new Float64Array(new Float32Array(B.subarray(2))), new Float64Array(M * N),
                bias ? new Float64Array(new Float32Array(bias.subarray(1))) : null, false);
              expectClose('C32', C32, ref32, 1e-6, 1e-6);
            }
          }
        }
      });
    }
  }

  it('K = 0 gives C = bias, or C + bias when accumulating; zero-size M/N are no-ops', () => {
    const C = new Float64Array([9, 9, 9, 9, 9, 9]);
    const bias = new Float64Array([1, 2, 3]);
    js.gemm(false, true, 2, 3, 0, f(new Float64Array(0)), 0, f(new Float64Array(0)), 0, f(C), 0, f(bias), 0, false);
    expect(Array.from(C)).toEqual([1, 2, 3, 1, 2, 3]);
    js.gemm(false, false, 2, 3, 0, f(new Float64Array(0)), 0, f(new Float64Array(0)), 0, f(C), 0, f(bias), 0, true);
    expect(Array.from(C)).toEqual([2, 4, 6, 2, 4, 6]);
    js.gemm(false, false, 2, 3, 0, f(new Float64Array(0)), 0, f(new Float64Array(0)), 0, f(C), 0, null, 0, false);
    expect(Array.from(C)).toEqual([0, 0, 0, 0, 0, 0]);
    js.gemm(false, false, 0, 3, 4, f(new Float64Array(0)), 0, f(rand(12)), 0, f(new Float64Array(0)), 0, null, 0, false);
  });

  it('gemmBatched equals per-problem gemm, with stride 0 sharing an operand', () => {
    const count = 3;
    const [M, N, K] = [4, 5, 6];
    for (const [transA, transB] of [[false, true], [true, false]] as const) {
      const A = rand(M * K + 1); // shared input (stride 0), e.g. one latent for every head
      const B = rand(count * N * K + 2);
      const bias = rand(count * N);
      const C = rand(count * M * N);
      const expected = Float64Array.from(C);
      for (let p = 0; p < count; p++) {
        const out = naiveGemm(transA, transB, M, N, K, A.subarray(1), B.subarray(2 + p * N * K), expected.subarray(p * M * N),
          bias.subarray(p * N), true);
        expected.set(out, p * M * N);
      }
      js.gemmBatched(count, transA, transB, M, N, K, f(A), 1, 0, f(B), 2, N * K, f(C), 0, M * N, f(bias), 0, N, true);
      expectClose('batched C', C, expected, 1e-13, 1e-14);
    }
    // count = 0 touches nothing and needs no memory
    js.gemmBatched(0, false, false, 2, 2, 2, f(new Float64Array(0)), 0, 4, f(new Float64Array(0)), 0, 4, f(new Float64Array(0)), 0, 4, null, 0, 0, false);
  });
});

// ------------------------------------------------------------------ NormedLinear

function mishRef(x: number): number {
  return x * Math.tanh(Math.log1p(Math.exp(x)));
}

function naiveNormedLinear(
  R: number, I: number, O: number, act: Activation, G: number,
  x: Float64Array, W: Float64Array, b: Float64Array, gamma: Float64Array, beta: Float64Array, mask: Float64Array | null,
): Float64Array {
  const out = new Float64Array(R * O);
  for (let r = 0; r < R; r++) {
    const lin = new Float64Array(O);
    for (let o = 0; o < O; o++) {
      let s = b[o]!;
      for (let i = 0; i < I; i++) s += x[r * I + i]! * W[o * I + i]!;
      lin[o] = mask ? s * mask[r * O + o]! : s;
    }
    const mu = lin.reduce((a, v) => a + v, 0) / O;
    const variance = lin.reduce((a, v) => a + (v - mu) * (v - mu), 0) / O;
    const y = lin.map((v, o) => ((v - mu) / Math.sqrt(variance + 1e-5)) * gamma[o]! + beta[o]!);
    for (let o = 0; o < O; o++) {
      if (act === ACT_NONE) out[r * O + o] = y[o]!;
      else if (act === ACT_MISH) out[r * O + o] = mishRef(y[o]!);
    }
    if (act === ACT_SIMNORM) {
      for (let g0 = 0; g0 < O; g0 += G) {
        let z = 0;
        for (let o = g0; o < g0 + G; o++) z += Math.exp(y[o]!);
        for (let o = g0; o < g0 + G; o++) out[r * O + o] = Math.exp(y[o]!) / z;
      }
    }
  }
  return out;
}

describe('normedLinear', () => {
  const [R, I, O, G] = [3, 5, 8, 4];
  const cases: [string, Activation][] = [['none', ACT_NONE], ['mish', ACT_MISH], ['simnorm', ACT_SIMNORM]];
  for (const [actName, act] of cases) {
    for (const withMask of [false, true]) {
      it(`forward matches naive and backward matches finite differences (act=${actName} mask=${withMask})`, () => {
        const x = rand(R * I);
        const W = rand(O * I, 0.7);
        const b = rand(O, 0.3);
        const gamma = rand(O, 0.5).map((v) => 1 + v);
        const beta = rand(O, 0.5);
        // inverted dropout with p = 0.25: kept values scaled by 1/(1-p)
        const mask = withMask ? rand(R * O).map((v, i) => (i % 5 === 2 || v < -0.6 ? 0 : 4 / 3)) : null;
        const lin = new Float64Array(R * O);
        const mean = new Float64Array(R);
        const rstd = new Float64Array(R);
        const out = new Float64Array(R * O);
        const dout = rand(R * O);
        const forward = (): void =>
          js.normedLinearForward(R, I, O, act, G, f(x), 0, f(W), 0, f(b), 0, f(gamma), 0, f(beta), 0,
            mask ? f(mask) : null, 0, f(lin), 0, f(mean), 0, f(rstd), 0, f(out), 0);
        const loss = (): number => {
          forward();
          return dot(out, dout);
        };

        forward();
        expectClose('out', out, naiveNormedLinear(R, I, O, act, G, x, W, b, gamma, beta, mask), 1e-12, 1e-14);

        const dx = new Float64Array(R * I).fill(PREFILL);
        const dW = new Float64Array(O * I).fill(PREFILL);
        const db = new Float64Array(O).fill(PREFILL);
        const dgamma = new Float64Array(O).fill(PREFILL);
        const dbeta = new Float64Array(O).fill(PREFILL);
        const scratch = new Float64Array(R * O);
        const backward = (dxBuf: Float64Array | null, dWBuf: Float64Array): void =>
          js.normedLinearBackward(R, I, O, act, G, f(x), 0, f(W), 0, f(gamma), 0, f(beta), 0, mask ? f(mask) : null, 0,
            f(lin), 0, f(mean), 0, f(rstd), 0, f(out), 0, f(dout), 0,
            dxBuf ? f(dxBuf) : null, 0, f(dWBuf), 0, f(db), 0, f(dgamma), 0, f(dbeta), 0, f(scratch), 0);
        backward(dx, dW);

        expectClose('dx', minus(dx, PREFILL), numericGrad(x, loss), FD_REL, FD_ABS);
        expectClose('dW', minus(dW, PREFILL), numericGrad(W, loss), FD_REL, FD_ABS);
        expectClose('db', minus(db, PREFILL), numericGrad(b, loss), FD_REL, FD_ABS);
        expectClose('dgamma', minus(dgamma, PREFILL), numericGrad(gamma, loss), FD_REL, FD_ABS);
        expectClose('dbeta', minus(dbeta, PREFILL), numericGrad(beta, loss), FD_REL, FD_ABS);

        // scratch holds d(x·Wᵀ + b): its row sums are db, and masked-out entries are 0
        const dbFromScratch = new Float64Array(O);
        for (let r = 0; r < R; r++) for (let o = 0; o < O; o++) dbFromScratch[o]! += scratch[r * O + o]!;
        expectClose('scratch row sums', dbFromScratch, minus(db, PREFILL), 1e-12, 1e-15);
        if (mask) for (let i = 0; i < R * O; i++) if (mask[i] === 0) expect(Math.abs(scratch[i]!)).toBe(0);

        // dx = null: dW is accumulated identically and nothing else changes
        forward();
        const dW2 = new Float64Array(O * I).fill(PREFILL);
        backward(null, dW2);
        expectClose('dW without dx', dW2, dW, 0, 0);
      });
    }
  }

  it('float32 forward agrees with the float64 forward', () => {
    const x = rand(R * I);
    const W = rand(O * I);
    const b = rand(O);
    const gamma = rand(O).map((v) => 1 + 0.5 * v);
    const beta = rand(O);
    const ref = naiveNormedLinear(R, I, O, ACT_MISH, G, x, W, b, gamma, beta, null);
    const out = new Float32Array(R * O);
    js.normedLinearForward(R, I, O, ACT_MISH, G, new Float32Array(x), 0, new Float32Array(W), 0, new Float32Array(b), 0,
      new Float32Array(gamma), 0, new Float32Array(beta), 0, null, 0, new Float32Array(R * O), 0, new Float32Array(R), 0,
      new Float32Array(R), 0, out, 0);
    expectClose('out32', out, ref, 1e-5, 1e-5);
  });
});

// ------------------------------------------------------------------ elementwise

describe('elementwise', () => {
  it('forward values: mish, tanh, softplus (stable at the extremes)', () => {
    const x = new Float64Array([-100, -3, -0.5, 0, 0.5, 1, 3, 25, 100]);
    const y = new Float64Array(x.length);
    js.mishForward(x.length, f(x), 0, f(y), 0);
    expect(y[5]).toBeCloseTo(0.8650983882673103, 14); // mish(1)
    expect(y[3]).toBe(0);
    expect(y[8]).toBe(100);
    expect(Math.abs(y[0]!)).toBeLessThan(1e-40);
    expectClose('mish', y, Array.from(x, (v) => (v > 20 ? v : mishRef(v))), 1e-14);
    js.tanhForward(x.length, f(x), 0, f(y), 0);
    expectClose('tanh', y, Array.from(x, Math.tanh), 0);
    js.softplusForward(x.length, f(x), 0, f(y), 0);
    expect(y[3]).toBeCloseTo(Math.LN2, 15);
    expect(y[8]).toBe(100);
    expect(y[0]).toBeGreaterThan(0);
    expectClose('softplus', y, Array.from(x, (v) => (v > 20 ? v : Math.log1p(Math.exp(v)))), 1e-14);
    expect(Math.abs(y[7]! - Math.log1p(Math.exp(25)))).toBeLessThan(1e-10); // the x > 20 cut-off costs < e^-20
    expect(y.every(Number.isFinite)).toBe(true);
  });

  const unary: [string, (n: number, x: F32, xo: number, y: F32, yo: number) => void,
    (n: number, xy: F32, o: number, dy: F32, dyo: number, dx: F32, dxo: number) => void, boolean][] = [
    ['mish', js.mishForward.bind(js), js.mishBackward.bind(js), false],
    ['tanh', js.tanhForward.bind(js), js.tanhBackward.bind(js), true],
    ['softplus', js.softplusForward.bind(js), js.softplusBackward.bind(js), false],
  ];
  for (const [name, forward, backward, takesOutput] of unary) {
    it(`${name} backward matches finite differences`, () => {
      const n = 29;
      const x = rand(n, 4);
      const y = new Float64Array(n);
      const dy = rand(n);
      const loss = (): number => {
        forward(n, f(x), 0, f(y), 0);
        return dot(y, dy);
      };
      loss();
      const dx = new Float64Array(n + 2).fill(PREFILL);
      backward(n, f(takesOutput ? y : x), 0, f(dy), 0, f(dx), 2);
      expect(dx[0]).toBe(PREFILL);
      expectClose(`d${name}`, minus(dx.subarray(2), PREFILL), numericGrad(x, loss), FD_REL, FD_ABS);
    });
  }
});

// ------------------------------------------------------------------ row-wise

describe('row-wise', () => {
  it('simnorm: groups sum to 1; backward matches finite differences', () => {
    const [R, D, G] = [3, 12, 4];
    const x = rand(R * D, 3);
    const y = new Float64Array(R * D);
    const dy = rand(R * D);
    const loss = (): number => {
      js.simnormForward(R, D, G, f(x), 0, f(y), 0);
      return dot(y, dy);
    };
    loss();
    for (let g0 = 0; g0 < R * D; g0 += G) {
      let s = 0;
      for (let j = g0; j < g0 + G; j++) s += y[j]!;
      expect(s).toBeCloseTo(1, 14);
    }
    const dx = new Float64Array(R * D).fill(PREFILL);
    js.simnormBackward(R, D, G, f(y), 0, f(dy), 0, f(dx), 0);
    expectClose('dsimnorm', minus(dx, PREFILL), numericGrad(x, loss), FD_REL, FD_ABS);
  });

  it('softmax and logSoftmax match naive rows (large logits do not overflow)', () => {
    const [R, D] = [3, 7];
    const x = rand(R * D, 5);
    x[3] = 800; // would overflow a non-shifted exp
    const sm = new Float64Array(R * D);
    const lsm = new Float64Array(R * D);
    js.softmaxForward(R, D, f(x), 0, f(sm), 0);
    js.logSoftmaxForward(R, D, f(x), 0, f(lsm), 0);
    const refSm = new Float64Array(R * D);
    const refLsm = new Float64Array(R * D);
    for (let r = 0; r < R; r++) {
      const row = Array.from(x.subarray(r * D, (r + 1) * D));
      const mx = Math.max(...row);
      const z = row.reduce((a, v) => a + Math.exp(v - mx), 0);
      row.forEach((v, j) => {
        refSm[r * D + j] = Math.exp(v - mx) / z;
        refLsm[r * D + j] = v - mx - Math.log(z);
      });
    }
    expectClose('softmax', sm, refSm, 1e-14, 1e-300);
    expectClose('logSoftmax', lsm, refLsm, 1e-14, 1e-14);
  });
});

// ------------------------------------------------------------------ two-hot

describe('two-hot', () => {
  const NB = 101;
  const [vmin, vmax] = [-10, 10];

  it('encodes hand-computed cases (tdmpc2 math.two_hot)', () => {
    const x = new Float64Array([0, Math.expm1(0.05), -Math.expm1(1.01), 1e30, -1e30, NaN]);
    const t = new Float64Array(x.length * NB);
    js.twoHotEncode(x.length, NB, vmin, vmax, f(x), 0, f(t), 0);
    const row = (i: number): Float64Array => t.subarray(i * NB, (i + 1) * NB);
    const expectRow = (i: number, weights: Record<number, number>): void => {
      const expected = new Float64Array(NB);
      for (const [k, w] of Object.entries(weights)) expected[Number(k)] = w;
      expectClose(`row ${i}`, row(i), expected, 0, 1e-9);
    };
    expectRow(0, { 50: 1 });
    expectRow(1, { 50: 0.75, 51: 0.25 }); // symlog = 0.05 -> position 50.25
    expectRow(2, { 44: 0.05, 45: 0.95 }); // symlog = -1.01 -> position 44.95
    expectRow(3, { 100: 1 }); // clamped to vmax: all weight on the last bin
    expectRow(4, { 0: 1 }); // clamped to vmin
    expect(row(5).every(Number.isNaN)).toBe(true);
  });

  it('rows sum to 1 and their mean bin is the clamped symlog; decode inverts encode', () => {
    const n = 50;
    const x = rand(n, 3).map((v) => Math.sign(v) * Math.expm1(Math.abs(v) * 4)); // spans beyond ±e^10
    const t = new Float64Array(n * NB);
    js.twoHotEncode(n, NB, vmin, vmax, f(x), 0, f(t), 0);
    const logits = t.map(Math.log); // softmax(log t) = t
    const decoded = new Float64Array(n);
    js.twoHotDecode(n, NB, vmin, vmax, f(logits), 0, f(decoded), 0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < NB; k++) {
        s += t[i * NB + k]!;
        m += t[i * NB + k]! * (vmin + (k * (vmax - vmin)) / (NB - 1));
      }
      const clamped = Math.min(Math.max(Math.sign(x[i]!) * Math.log1p(Math.abs(x[i]!)), vmin), vmax);
      expect(s).toBeCloseTo(1, 12);
      expect(m).toBeCloseTo(clamped, 12);
      const expected = Math.sign(clamped) * Math.expm1(Math.abs(clamped));
      expect(Math.abs(decoded[i]! - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
    }
  });

  it('decodes hand-computed logits, and NB = 1 is plain symlog/symexp', () => {
    const out = new Float64Array(2);
    js.twoHotDecode(1, 3, -1, 1, f(new Float64Array([0.3, 0.3, 0.3])), 0, f(out), 0);
    expect(out[0]).toBeCloseTo(0, 15);
    js.twoHotDecode(1, 2, 0, 2, f(new Float64Array([0, Math.log(3)])), 0, f(out), 0); // probs .25/.75 -> 1.5
    expect(out[0]).toBeCloseTo(Math.expm1(1.5), 13);
    const x = new Float64Array([-5, 0, 7]);
    const t = new Float64Array(3);
    js.twoHotEncode(3, 1, vmin, vmax, f(x), 0, f(t), 0);
    expectClose('symlog', t, [-Math.log(6), 0, Math.log(8)], 1e-15);
    const back = new Float64Array(3);
    js.twoHotDecode(3, 1, vmin, vmax, f(t), 0, f(back), 0);
    expectClose('symexp', back, x, 1e-14);
  });

  it('soft cross-entropy matches the naive loss; backward matches finite differences', () => {
    const [R, K] = [4, 9];
    const logits = rand(R * K, 3);
    const target = rand(R * K).map((v) => 0.6 + 0.5 * v); // rows need not sum to 1: exercises Σ target
    const loss = new Float64Array(R);
    const dloss = rand(R);
    const fake = (): number => {
      js.softCrossEntropyForward(R, K, f(logits), 0, f(target), 0, f(loss), 0);
      return dot(loss, dloss);
    };
    fake();
    for (let r = 0; r < R; r++) {
      const row = Array.from(logits.subarray(r * K, (r + 1) * K));
      const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      const ref = -row.reduce((a, v, k) => a + target[r * K + k]! * (v - lse), 0);
      expect(loss[r]).toBeCloseTo(ref, 13);
    }
    const dlogits = new Float64Array(R * K).fill(PREFILL);
    js.softCrossEntropyBackward(R, K, f(logits), 0, f(target), 0, f(dloss), 0, f(dlogits), 0);
    expectClose('dlogits', minus(dlogits, PREFILL), numericGrad(logits, fake), FD_REL, FD_ABS);
  });
});

// ------------------------------------------------------------------ Gaussian KL

describe('gaussianKl', () => {
  it('forward matches the closed form (0 for equal distributions); backward matches finite differences', () => {
    const n = 11;
    const mu1 = rand(n, 2);
    const ls1 = rand(n);
    const mu2 = rand(n, 2);
    const ls2 = rand(n);
    const out = new Float64Array(n);
    js.gaussianKlForward(n, f(mu1), 0, f(ls1), 0, f(mu1), 0, f(ls1), 0, f(out), 0);
    expectClose('kl(p,p)', out, new Float64Array(n), 0, 1e-15);
    const dout = rand(n);
    const loss = (): number => {
      js.gaussianKlForward(n, f(mu1), 0, f(ls1), 0, f(mu2), 0, f(ls2), 0, f(out), 0);
      return dot(out, dout);
    };
    loss();
    for (let i = 0; i < n; i++) {
      const [s1, s2] = [Math.exp(ls1[i]!), Math.exp(ls2[i]!)];
      const ref = Math.log(s2 / s1) + (s1 * s1 + (mu1[i]! - mu2[i]!) ** 2) / (2 * s2 * s2) - 0.5;
      expect(out[i]).toBeCloseTo(ref, 13);
    }
    const grads = [0, 1, 2, 3].map(() => new Float64Array(n).fill(PREFILL));
    js.gaussianKlBackward(n, f(mu1), 0, f(ls1), 0, f(mu2), 0, f(ls2), 0, f(dout), 0,
      f(grads[0]!), 0, f(grads[1]!), 0, f(grads[2]!), 0, f(grads[3]!), 0);
    const params = [mu1, ls1, mu2, ls2];
    ['dmu1', 'dls1', 'dmu2', 'dls2'].forEach((name, j) => {
      expectClose(name, minus(grads[j]!, PREFILL), numericGrad(params[j]!, loss), FD_REL, FD_ABS);
    });
    // null gradients are skipped; the others are unchanged by the skip
    const only = new Float64Array(n);
    js.gaussianKlBackward(n, f(mu1), 0, f(ls1), 0, f(mu2), 0, f(ls2), 0, f(dout), 0, null, 0, null, 0, null, 0, f(only), 0);
    expectClose('dls2 alone', only, minus(grads[3]!, PREFILL), 1e-15, 1e-16);
  });
});

// ------------------------------------------------------------------ reductions and plumbing

describe('reductions and plumbing', () => {
  it('sum, sumSquares, sumRows', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 0.1]);
    expect(js.sum(6, x, 0)).toBe(21);
    expect(js.sumSquares(3, x, 3)).toBe(16 + 25 + 36);
    expect(js.sum(2, x, 5)).toBe(6 + Number(x[6])); // accumulated in float64, not float32
    const out = new Float32Array([10, 10, 10]);
    js.sumRows(2, 3, x, 0, out, 0, true);
    expect(Array.from(out)).toEqual([15, 17, 19]);
    js.sumRows(2, 3, x, 0, out, 0, false);
    expect(Array.from(out)).toEqual([5, 7, 9]);
    js.sumRows(0, 3, x, 0, out, 0, false);
    expect(Array.from(out)).toEqual([0, 0, 0]);
  });

  it('countNonFinite and zeroNonFinite', () => {
    const x = new Float32Array([1, NaN, -2, Infinity, 3, -Infinity, 0]);
    expect(js.countNonFinite(7, x, 0)).toBe(3);
    expect(js.countNonFinite(3, x, 4)).toBe(1);
    expect(js.zeroNonFinite(6, x, 1)).toBe(3);
    expect(Array.from(x)).toEqual([1, 0, -2, 0, 3, 0, 0]);
    expect(js.countNonFinite(7, x, 0)).toBe(0);
  });

  it('copy, fill, axpy, scale', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array(6);
    js.copy(4, a, 0, b, 1);
    expect(Array.from(b)).toEqual([0, 1, 2, 3, 4, 0]);
    js.fill(2, 7, b, 4);
    expect(Array.from(b)).toEqual([0, 1, 2, 3, 7, 7]);
    js.axpy(3, 2, a, 1, b, 0);
    expect(Array.from(b)).toEqual([4, 7, 10, 3, 7, 7]);
    js.scale(2, -0.5, b, 1);
    expect(Array.from(b)).toEqual([4, -3.5, -5, 3, 7, 7]);
  });

  it('concatColumns, and splitColumnsBackward matches finite differences', () => {
    const [R, D1, D2] = [3, 2, 4];
    const a = rand(R * D1);
    const b = rand(R * D2);
    const out = new Float64Array(R * (D1 + D2));
    js.concatColumns(R, D1, D2, f(a), 0, f(b), 0, f(out), 0);
    for (let r = 0; r < R; r++) {
      expect(Array.from(out.subarray(r * 6, r * 6 + 6))).toEqual([...a.subarray(r * 2, r * 2 + 2), ...b.subarray(r * 4, r * 4 + 4)]);
    }
    const dout = rand(R * (D1 + D2));
    const loss = (): number => {
      js.concatColumns(R, D1, D2, f(a), 0, f(b), 0, f(out), 0);
      return dot(out, dout);
    };
    const da = new Float64Array(R * D1).fill(PREFILL);
    const db = new Float64Array(R * D2).fill(PREFILL);
    js.splitColumnsBackward(R, D1, D2, f(dout), 0, f(da), 0, f(db), 0);
    expectClose('da', minus(da, PREFILL), numericGrad(a, loss), FD_REL, FD_ABS);
    expectClose('db', minus(db, PREFILL), numericGrad(b, loss), FD_REL, FD_ABS);
    const dbOnly = new Float64Array(R * D2);
    js.splitColumnsBackward(R, D1, D2, f(dout), 0, null, 0, f(dbOnly), 0);
    expectClose('db alone', dbOnly, minus(db, PREFILL), 1e-15, 1e-16);
  });
});

// ------------------------------------------------------------------ optimizer

describe('optimizer', () => {
  /** Hand-written Adam/AdamW in PyTorch's form (torch.optim.Adam / AdamW, single-tensor path). */
  function referenceAdam(
    p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array,
    lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean, scale: number, step: number,
  ): void {
    for (let i = 0; i < p.length; i++) {
      let grad = g[i]! * scale;
      if (decoupled) p[i] = p[i]! * (1 - lr * wd);
      else grad = grad + wd * p[i]!;
      m[i] = m[i]! * b1 + grad * (1 - b1);
      v[i] = v[i]! * b2 + grad * grad * (1 - b2);
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** step) + eps;
      p[i] = p[i]! - (lr / (1 - b1 ** step)) * (m[i]! / denom);
    }
  }

  for (const decoupled of [false, true]) {
    it(`adamStep matches a hand-written ${decoupled ? 'AdamW' : 'Adam (L2)'} over 3 steps with gradScale`, () => {
      const n = 17;
      const p = rand(n);
      const [m, v] = [new Float64Array(n), new Float64Array(n)];
      const [pr, mr, vr] = [Float64Array.from(p), new Float64Array(n), new Float64Array(n)];
      const p32 = new Float32Array(p);
      const [m32, v32] = [new Float32Array(n), new Float32Array(n)];
      for (let step = 1; step <= 3; step++) {
        const g = rand(n, 2);
        const args = [3e-3, 0.9, 0.999, 1e-8, 0.1, decoupled, 0.5, step] as const;
        js.adamStep(n, f(p), 0, f(g), 0, f(m), 0, f(v), 0, ...args);
        js.adamStep(n, p32, 0, new Float32Array(g), 0, m32, 0, v32, 0, ...args);
        referenceAdam(pr, g, mr, vr, ...args);
      }
      expectClose('params', p, pr, 1e-12, 1e-15);
      expectClose('m', m, mr, 1e-12, 1e-18);
      expectClose('v', v, vr, 1e-12, 1e-18);
      expectClose('params float32', p32, pr, 1e-6, 1e-7);
    });
  }

  it('adamStep with gradScale 0 and no weight decay leaves params unchanged', () => {
    const p = new Float32Array([1, -2, 3]);
    js.adamStep(3, p, 0, new Float32Array([5, 5, 5]), 0, new Float32Array(3), 0, new Float32Array(3), 0,
      1e-3, 0.9, 0.999, 1e-8, 0, true, 0, 1);
    expect(Array.from(p)).toEqual([1, -2, 3]);
  });

  it('polyak moves the target towards the source by tau', () => {
    const target = new Float64Array([0, 10, -4]);
    js.polyak(3, 0.25, f(new Float64Array([4, 2, 4])), 0, f(target), 0);
    expect(Array.from(target)).toEqual([1, 8, -2]);
    js.polyak(3, 1, f(new Float64Array([4, 2, 4])), 0, f(target), 0);
    expect(Array.from(target)).toEqual([4, 2, 4]);
  });
});

// ------------------------------------------------------------------ RNG

describe('rng', () => {
  const n = 100_000;

  it('uniform: follows rng.ts exactly, in [lo, hi), with the right mean and variance', () => {
    const exact = new Float64Array(1000);
    js.randomUniform(1000, 7, 2 ** 32 - 500, 0, 1, f(exact), 0); // crosses the 2^32 counter boundary
    for (let i = 0; i < 1000; i++) expect(exact[i]).toBe(uniformAt(7, 2 ** 32 - 500 + i));
    const u = new Float32Array(n);
    js.randomUniform(n, 42, 0, -2, 3, u, 0);
    let s = 0;
    let s2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of u) {
      s += x;
      s2 += x * x;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    expect(lo).toBeGreaterThanOrEqual(-2);
    expect(hi).toBeLessThan(3);
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(25 / 12 / n));
    expect(Math.abs(variance - 25 / 12) / (25 / 12)).toBeLessThan(0.02);
  });

  it('normal: follows rng.ts exactly, with the right mean and variance', () => {
    const exact = new Float64Array(1000);
    js.randomNormal(1000, 9, 123, 0, 1, f(exact), 0);
    for (let i = 0; i < 1000; i++) expect(exact[i]).toBe(normalAt(9, 123 + i));
    const z = new Float64Array(n);
    js.randomNormal(n, 43, 5, 1, 2, f(z), 0);
    let s = 0;
    let s2 = 0;
    for (const x of z) {
      s += x;
      s2 += x * x;
    }
    expect(js.countNonFinite(n, f(z), 0)).toBe(0);
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 1)).toBeLessThan(5 * 2 / Math.sqrt(n));
    expect(Math.abs(variance - 4) / 4).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('is reproducible, seed-dependent, and split calls equal one call', () => {
    for (const method of ['randomUniform', 'randomNormal'] as const) {
      const one = new Float32Array(1000);
      const again = new Float32Array(1000);
      const split = new Float32Array(1000);
      const other = new Float32Array(1000);
      js[method](1000, 11, 77, 0, 1, one, 0);
      js[method](1000, 11, 77, 0, 1, again, 0);
      js[method](300, 11, 77, 0, 1, split, 0);
      js[method](700, 11, 77 + 300, 0, 1, split, 300);
      js[method](1000, 12, 77, 0, 1, other, 0);
      expect(again).toEqual(one);
      expect(split).toEqual(one);
      expect(other.some((x, i) => x !== one[i])).toBe(true);
    }
  });
});

// ------------------------------------------------------------------ validation

describe('validation', () => {
  const empty = new Float32Array(0);

  it('gemm names the op, the buffer and every dim', () => {
    const A = new Float32Array(536 * 512);
    const C = new Float32Array(536 * 512);
    expect(() => js.gemm(false, true, 536, 512, 512, A, 0, new Float32Array(1000), 0, C, 0, null, 0, false)).toThrow(
      new ShapeError('gemm: B needs 262144 floats from offset 0 but has 1000 (M=536 N=512 K=512 transA=0 transB=1)'),
    );
    expect(() => js.gemm(false, false, 2, 2, 2, new Float32Array(4), -1, new Float32Array(4), 0, new Float32Array(4), 0, null, 0, false))
      .toThrow('gemm: A offset must be a non-negative integer, got -1 (M=2 N=2 K=2 transA=0 transB=0)');
    expect(() => js.gemm(false, false, 2, 2, 2, new Float32Array(4), 1, new Float32Array(4), 0, new Float32Array(4), 0, null, 0, false))
      .toThrow('gemm: A needs 4 floats from offset 1 but has 4');
    expect(() => js.gemm(false, false, 2, 2, 2, new Float32Array(4), 0, new Float32Array(4), 0, new Float32Array(4), 0, new Float32Array(1), 0, false))
      .toThrow('gemm: bias needs 2 floats');
    expect(() => js.gemmBatched(2, false, false, 2, 2, 2, new Float32Array(4), 0, 0, new Float32Array(4), 0, 4, new Float32Array(8), 0, 4, null, 0, 0, false))
      .toThrow('gemmBatched: B needs 8 floats from offset 0 but has 4');
  });

  it('rejects non-integer and negative dims, and leaves outputs untouched', () => {
    const y = new Float32Array([5, 5]);
    expect(() => js.mishForward(1.5, new Float32Array(2), 0, y, 0)).toThrow(
      new ShapeError('mishForward: n must be a non-negative integer, got 1.5 (n=1.5)'),
    );
    expect(() => js.tanhForward(-1, empty, 0, empty, 0)).toThrow(ShapeError);
    expect(() => js.sum(NaN, empty, 0)).toThrow('sum: n must be a non-negative integer, got NaN');
    expect(() => js.copy(2, new Float32Array(2), 0.5, y, 0)).toThrow('copy: src offset must be a non-negative integer, got 0.5');
    expect(Array.from(y)).toEqual([5, 5]);
  });

  it('enforces the SimNorm, activation, bins, adam and rng rules', () => {
    expect(() => js.simnormForward(1, 10, 3, new Float32Array(10), 0, new Float32Array(10), 0)).toThrow(
      new ShapeError('simnormForward: D must be divisible by G, got D=10 G=3 (R=1 D=10 G=3)'),
    );
    expect(() => js.simnormBackward(1, 8, 0, empty, 0, empty, 0, empty, 0)).toThrow('simnormBackward: G must be positive');
    const nl = (act: number, group: number): void => js.normedLinearForward(1, 1, 8, act as Activation, group,
      new Float32Array(1), 0, new Float32Array(8), 0, new Float32Array(8), 0, new Float32Array(8), 0, new Float32Array(8), 0,
      null, 0, new Float32Array(8), 0, new Float32Array(1), 0, new Float32Array(1), 0, new Float32Array(8), 0);
    nl(ACT_SIMNORM, 8);
    expect(() => nl(ACT_SIMNORM, 0)).toThrow('normedLinearForward: group must be positive for act=2 (simnorm)');
    expect(() => nl(ACT_SIMNORM, 3)).toThrow('normedLinearForward: out must be divisible by group, got out=8 group=3');
    expect(() => nl(3, 8)).toThrow('normedLinearForward: act must be 0 (none), 1 (mish) or 2 (simnorm), got 3');
    const same = new Float32Array(8);
    expect(() => js.normedLinearForward(1, 1, 8, ACT_NONE, 0, new Float32Array(1), 0, new Float32Array(8), 0, new Float32Array(8), 0,
      new Float32Array(8), 0, new Float32Array(8), 0, null, 0, same, 0, new Float32Array(1), 0, new Float32Array(1), 0, same, 0))
      .toThrow('normedLinearForward: out overlaps lin');
    expect(() => js.copy(4, same, 0, same.subarray(2), 0)).toThrow('copy: dst overlaps src');
    expect(() => js.twoHotEncode(1, 0, -10, 10, new Float32Array(1), 0, empty, 0)).toThrow('twoHotEncode: NB must be at least 1');
    expect(() => js.twoHotDecode(1, 5, 1, 1, new Float32Array(5), 0, new Float32Array(1), 0)).toThrow('twoHotDecode: vmin and vmax');
    expect(() => js.adamStep(1, new Float32Array(1), 0, new Float32Array(1), 0, new Float32Array(1), 0, new Float32Array(1), 0,
      1e-3, 0.9, 0.999, 1e-8, 0, true, 1, 0)).toThrow('adamStep: step must be at least 1');
    expect(() => js.randomUniform(1, 2 ** 32, 0, 0, 1, new Float32Array(1), 0)).toThrow('randomUniform: seed must be a uint32');
    expect(() => js.randomNormal(1, 1, 0.5, 0, 1, new Float32Array(1), 0)).toThrow('randomNormal: counter must be a non-negative integer');
    expect(() => js.randomNormal(2, 1, 2 ** 53 - 1, 0, 1, new Float32Array(2), 0)).toThrow('randomNormal: counter + n must not exceed 2^53');
  });

  it('stand-alone checkDims/checkBuffer use the same message templates', () => {
    expect(() => checkDims('encode', { B: 4, Z: -2 })).toThrow(new ShapeError('encode: Z must be a non-negative integer, got -2 (B=4 Z=-2)'));
    expect(() => checkBuffer('encode', 'obs', new Float32Array(3), 1, 3, 'B=1 obs=3')).toThrow(
      new ShapeError('encode: obs needs 3 floats from offset 1 but has 3 (B=1 obs=3)'),
    );
    checkDims('encode', { B: 0 });
    checkBuffer('encode', 'obs', new Float32Array(3), 3, 0, '');
  });
});
