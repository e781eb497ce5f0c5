// The native engine against the JS reference engine (the oracle), kernel by kernel, on every SIMD
// path this CPU has (avx512 > avx2 > scalar; a lower path is forced per engine) and with 1 and 2
// threads: random inputs, odd sizes (1, 7, 13, 33, 129), every transpose/bias/accumulate
// combination, offsets into larger arrays, and shapes large enough to take the threaded paths.
// Also: bit-identical results for 1 and 2 threads, zero-copy SharedArrayBuffers, ShapeError
// messages identical to the JS engine's, and SIMD selection through env TDMPC_SIMD.
//
// Skipped (with the reason printed) only when the addon is not built and TDMPC_REQUIRE_NATIVE is unset.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ACT_MISH, ACT_NONE, ACT_SIMNORM, type Activation, type Engine } from '../src/engine/engine.js';
import { JsEngine } from '../src/engine/js-engine.js';
import { loadNativeAddon, loadNativeEngine, nativeAddonPath, nativeLoadError } from '../src/engine/native-engine.js';
import { uniformAt } from '../src/engine/rng.js';
import { ShapeError } from '../src/errors.js';

const addon = loadNativeAddon();
const required = process.env.TDMPC_REQUIRE_NATIVE === '1';
if (addon === null && !required) {
  console.warn(`engine-native tests skipped: the native addon is not built (${nativeLoadError()})`);
}
const describeNative = addon !== null || required ? describe : describe.skip;

const RANK: Record<string, number> = { scalar: 0, avx2: 1, avx512: 2 };
const PATHS = addon ? ['avx512', 'avx2', 'scalar'].filter((p) => RANK[p]! <= RANK[addon.bestSimd]!) : [];

const js = new JsEngine(1);
const engines = new Map<string, Engine>();
/** The native engine of one SIMD path and thread count (created once, disposed after the file). */
function native(simd: string, threads: number): Engine {
  const key = `${simd}/${threads}`;
  let e = engines.get(key);
  if (!e) {
    const made = loadNativeEngine(threads, simd);
    if (made === null) throw new Error(`native engine unavailable: ${nativeLoadError()}`);
    e = made;
    engines.set(key, e);
  }
  return e;
}
afterAll(() => {
  for (const e of engines.values()) e.dispose();
});

let dataCounter = 0;
/** Deterministic float32 test data in [lo, hi). */
function rand(n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * uniformAt(4242, dataCounter++);
  return a;
}

/** |got - want| <= abs + rel·|want| everywhere (NaN must match NaN); reports the worst element. */
function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs: number): void {
  expect(got.length, `${label} length`).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) return void expect.fail(`${label}[${i}] = ${g} but expected ${w}`);
      continue;
    }
    if (g === w) continue;
    const excess = Math.abs(g - w) - (abs + rel * Math.abs(w));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  if (at >= 0) expect.fail(`${label}[${at}] = ${got[at]} but expected ${want[at]} (rel ${rel}, abs ${abs})`);
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Bit-identical (NaN payloads included). */
function expectIdentical(label: string, got: Float32Array, want: Float32Array): void {
  if (!bytesOf(got).equals(bytesOf(want))) {
    const i = got.findIndex((v, k) => !Object.is(v, want[k]));
    expect.fail(`${label} differs at [${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/** Copies of each array, one set per engine run (inputs are shared, outputs compared). */
const clones = (arrs: Float32Array[]): Float32Array[] => arrs.map((a) => a.slice());

describeNative('native engine: build and selection', () => {
  it('loads, reports its SIMD path and thread count, and accepts a forced lower path', () => {
    expect(addon, nativeLoadError()).not.toBeNull();
    for (const p of PATHS) {
      const e = native(p, 2);
      expect(e.name).toBe('native');
      expect(e.simd).toBe(p);
      expect(e.threads).toBe(2);
    }
  });

  it('env TDMPC_SIMD picks a lower path and rejects unknown values (child processes)', () => {
    const script = (v: string) => `
      const m = require(${JSON.stringify(nativeAddonPath())});
      try { const e = new m.NativeEngine(1); console.log(e.simd); e.dispose(); }
      catch (err) { console.log(err.name + ': ' + err.message); }`;
    for (const p of PATHS) {
      const r = spawnSync(process.execPath, ['-e', script(p)], { env: { ...process.env, TDMPC_SIMD: p }, encoding: 'utf8' });
      expect(r.stdout.trim()).toBe(p);
    }
    const bad = spawnSync(process.execPath, ['-e', script('sse9')], { env: { ...process.env, TDMPC_SIMD: 'sse9' }, encoding: 'utf8' });
    expect(bad.stdout).toContain("TypeError: TDMPC_SIMD must be avx512, avx2 or scalar (to force a lower path), got 'sse9'");
  });

  it('refuses calls after dispose()', () => {
    const e = loadNativeEngine(2)!;
    e.dispose();
    expect(() => e.fill(1, 0, new Float32Array(1), 0)).toThrow('fill: the engine was disposed');
  });
});

for (const simd of PATHS) {
  describeNative(`native engine [${simd}] vs JS engine`, () => {
    const ne = () => native(simd, 2);

    it('gemm: every transpose/bias/accumulate combination, odd sizes, offsets, K blocks and threaded tiles', () => {
      const shapes: [number, number, number][] = [
        // unpacked path (few rows, few columns, or tiny)
        [1, 1, 1], [7, 13, 33], [13, 7, 129], [129, 33, 7], [1, 129, 33], [13, 1, 7], [200, 6, 129],
        [13, 512, 256], // threaded (split along N); ta && tb takes the packed path with tiles along N
        // packed path: edge panels in M and N, K blocks
        [33, 129, 13], [17, 17, 129], [129, 33, 33], [33, 65, 300], [33, 65, 500], // two K blocks: 300 = 2 x 150 (AVX2, KC 256), 500 = 2 x 256 (AVX-512, KC 384)
        [200, 96, 160], [100, 17, 600], // threaded, tiles along M
        [4, 3, 0], [0, 5, 3], [5, 0, 3],
      ];
      for (const [M, N, K] of shapes) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            for (const withBias of [false, true]) {
              for (const acc of [false, true]) {
                const A = rand(M * K + 3);
                const B = rand(K * N + 5);
                const bias = withBias ? rand(N + 2) : null;
                const Cj = rand(M * N + 4);
                const Cn = Cj.slice();
                js.gemm(ta, tb, M, N, K, A, 3, B, 5, Cj, 4, bias, 2, acc);
                ne().gemm(ta, tb, M, N, K, A, 3, B, 5, Cn, 4, bias, 2, acc);
                expectClose(`C ${M}x${N}x${K} ta=${ta} tb=${tb} bias=${withBias} acc=${acc}`, Cn, Cj, 1e-5, 3e-7 * (K + 1));
              }
            }
          }
        }
      }
    });

    it('gemm: the benchmark shape [536x512]x[512x512], Linear layout with bias', () => {
      const [M, N, K] = [536, 512, 512];
      const A = rand(M * K);
      const B = rand(N * K);
      const bias = rand(N);
      const Cj = new Float32Array(M * N);
      const Cn = new Float32Array(M * N);
      js.gemm(false, true, M, N, K, A, 0, B, 0, Cj, 0, bias, 0, false);
      ne().gemm(false, true, M, N, K, A, 0, B, 0, Cn, 0, bias, 0, false);
      expectClose('C', Cn, Cj, 1e-5, 3e-7 * K);
    });

    it('gemmBatched: shared operands (stride 0), per-problem bias, accumulate', () => {
      for (const [count, M, N, K] of [[3, 7, 13, 33], [5, 33, 129, 13], [2, 1, 1, 1], [0, 4, 4, 4]] as const) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const aStride = 0; // the same input for every head
            const bStride = N * K + 3;
            const cStride = M * N + 1;
            const A = rand(M * K + 2);
            const B = rand(Math.max(1, count) * bStride + 1);
            const bias = rand(Math.max(1, count) * N + 1);
            const Cj = rand(Math.max(1, count) * cStride + 2);
            const Cn = Cj.slice();
            js.gemmBatched(count, ta, tb, M, N, K, A, 2, aStride, B, 1, bStride, Cj, 2, cStride, bias, 1, N, true);
            ne().gemmBatched(count, ta, tb, M, N, K, A, 2, aStride, B, 1, bStride, Cn, 2, cStride, bias, 1, N, true);
            expectClose(`batched ${count}x${M}x${N}x${K}`, Cn, Cj, 1e-5, 3e-7 * (K + 1));
          }
        }
      }
    });

    const nlCases: { R: number; inDim: number; outDim: number; act: Activation; group: number; mask: boolean }[] = [
      { R: 1, inDim: 1, outDim: 1, act: ACT_NONE, group: 0, mask: false },
      { R: 7, inDim: 13, outDim: 33, act: ACT_MISH, group: 0, mask: true },
      { R: 13, inDim: 33, outDim: 24, act: ACT_SIMNORM, group: 8, mask: false },
      { R: 129, inDim: 7, outDim: 16, act: ACT_SIMNORM, group: 4, mask: true },
      { R: 33, inDim: 129, outDim: 13, act: ACT_NONE, group: 0, mask: true },
      { R: 200, inDim: 64, outDim: 96, act: ACT_MISH, group: 0, mask: false }, // threaded, fused epilogue
      { R: 2, inDim: 512, outDim: 512, act: ACT_SIMNORM, group: 8, mask: true }, // unpacked GEMM (actor batch)
      { R: 5, inDim: 0, outDim: 7, act: ACT_MISH, group: 0, mask: false }, // lin = b
      { R: 3, inDim: 4, outDim: 0, act: ACT_NONE, group: 0, mask: false }, // empty rows
    ];

    function nlInputs(c: (typeof nlCases)[number]) {
      const { R, inDim, outDim } = c;
      const mask = c.mask ? rand(R * outDim).map((u) => (u > -0.6 ? 1 / 0.8 : 0)) : null;
      return {
        x: rand(R * inDim + 1), W: rand(outDim * inDim + 2, -0.5, 0.5), b: rand(outDim + 3),
        gamma: rand(outDim + 1, 0.5, 1.5), beta: rand(outDim + 2, -0.5, 0.5), mask,
      };
    }

    it('normedLinearForward: LayerNorm statistics of huge rows (float sums overflow) as the JS engine', () => {
      const R = 2, I = 4, O = 64;
      const W = Float32Array.from({ length: O * I }, (_, i) => ((i * 7) % 5) / 5 - 0.4);
      const gamma = new Float32Array(O).fill(1);
      for (const scale of [1e19, 1e30]) {
        const x = Float32Array.from({ length: R * I }, (_, i) => ((i % 3) - 1) * scale);
        const [a, b] = [ne(), js].map((e) => {
          const lin = new Float32Array(R * O), mean = new Float32Array(R), rstd = new Float32Array(R), out = new Float32Array(R * O);
          e.normedLinearForward(R, I, O, ACT_MISH, 0, x, 0, W, 0, new Float32Array(O), 0, gamma, 0, new Float32Array(O), 0, null, 0,
            lin, 0, mean, 0, rstd, 0, out, 0);
          return { rstd, out };
        });
        expect(a.rstd[0], `scale ${scale}`).toBeGreaterThan(0); // 0 made every output beta
        expectClose(`rstd ${scale}`, a.rstd, b.rstd, 1e-5, 0);
        expectClose(`out ${scale}`, a.out, b.out, 1e-4, 1e-5);
      }
    });

    it('normedLinearForward: none/Mish/SimNorm, dropout mask, empty dims', () => {
      for (const c of nlCases) {
        const { R, inDim, outDim, act, group } = c;
        const p = nlInputs(c);
        const run = (e: Engine) => {
          const lin = new Float32Array(R * outDim + 1);
          const mean = new Float32Array(R + 2);
          const rstd = new Float32Array(R + 3);
          const out = new Float32Array(R * outDim + 4);
          e.normedLinearForward(R, inDim, outDim, act, group, p.x, 1, p.W, 2, p.b, 3, p.gamma, 1, p.beta, 2, p.mask, 0,
            lin, 1, mean, 2, rstd, 3, out, 4);
          return { lin, mean, rstd, out };
        };
        const j = run(js);
        const n = run(ne());
        const label = `R=${R} in=${inDim} out=${outDim} act=${act}`;
        expectClose(`lin ${label}`, n.lin, j.lin, 1e-5, 3e-7 * (inDim + 1));
        expectClose(`mean ${label}`, n.mean, j.mean, 1e-4, 1e-5);
        expectClose(`rstd ${label}`, n.rstd, j.rstd, 1e-4, 1e-5);
        expectClose(`out ${label}`, n.out, j.out, 1e-4, 1e-5);
      }
    });

    it('normedLinearBackward: gradients accumulate, dx optional, scratch holds d(x·Wᵀ+b)', () => {
      for (const c of nlCases) {
        const { R, inDim, outDim, act, group } = c;
        const p = nlInputs(c);
        const lin = new Float32Array(R * outDim);
        const mean = new Float32Array(R);
        const rstd = new Float32Array(R);
        const out = new Float32Array(R * outDim);
        js.normedLinearForward(R, inDim, outDim, act, group, p.x, 1, p.W, 2, p.b, 3, p.gamma, 1, p.beta, 2, p.mask, 0,
          lin, 0, mean, 0, rstd, 0, out, 0);
        const dout = rand(R * outDim);
        for (const withDx of [true, false]) {
          const grads = [rand(R * inDim), rand(outDim * inDim), rand(outDim), rand(outDim), rand(outDim), new Float32Array(R * outDim)];
          const run = (e: Engine) => {
            const [dx, dW, db, dgamma, dbeta, scratch] = clones(grads);
            e.normedLinearBackward(R, inDim, outDim, act, group, p.x, 1, p.W, 2, p.gamma, 1, p.beta, 2, p.mask, 0,
              lin, 0, mean, 0, rstd, 0, out, 0, dout, 0, withDx ? dx! : null, 0, dW!, 0, db!, 0, dgamma!, 0, dbeta!, 0,
              scratch!, 0);
            return { dx: dx!, dW: dW!, db: db!, dgamma: dgamma!, dbeta: dbeta!, scratch: scratch! };
          };
          const j = run(js);
          const n = run(ne());
          const label = `R=${R} in=${inDim} out=${outDim} act=${act} dx=${withDx}`;
          for (const k of ['scratch', 'db', 'dgamma', 'dbeta', 'dW', 'dx'] as const) {
            expectClose(`${k} ${label}`, n[k], j[k], 2e-4, 2e-5 * Math.sqrt(R + outDim + 1));
          }
        }
      }
    });

    it('activations: Mish, tanh, softplus and their backward over odd lengths and the threaded path', () => {
      for (const n of [1, 7, 13, 33, 129, 100_003]) {
        const x = rand(n, -30, 30);
        x[0] = n > 1 ? 45 : 0.5; // Mish's overflow guard
        const dy = rand(n);
        const dx0 = rand(n);
        const y = rand(n, -0.99, 0.99);
        for (const [name, tol] of [['mish', 2e-6], ['tanh', 1e-7], ['softplus', 1e-7]] as const) {
          const fwd = `${name}Forward` as const;
          const bwd = `${name}Backward` as const;
          const yj = new Float32Array(n);
          const yn = new Float32Array(n);
          js[fwd](n, x, 0, yj, 0);
          ne()[fwd](n, x, 0, yn, 0);
          expectClose(`${fwd} n=${n}`, yn, yj, tol, 1e-7);
          const input = name === 'tanh' ? y : x;
          const [dxj, dxn] = [dx0.slice(), dx0.slice()];
          js[bwd](n, input, 0, dy, 0, dxj, 0);
          ne()[bwd](n, input, 0, dy, 0, dxn, 0);
          expectClose(`${bwd} n=${n}`, dxn, dxj, 4 * tol, 1e-7);
        }
      }
    });

    it('row-wise: SimNorm forward/backward, softmax, log-softmax', () => {
      for (const [R, D, G] of [[1, 8, 8], [7, 24, 8], [13, 33, 11], [33, 129, 3], [129, 13, 1], [300, 512, 8], [5, 48, 16], [9, 66, 2], [3, 0, 4]]) {
        const x = rand(R * D, -6, 6);
        const dy = rand(R * D);
        const dx0 = rand(R * D);
        const yj = new Float32Array(R * D);
        const yn = new Float32Array(R * D);
        js.simnormForward(R, D, G, x, 0, yj, 0);
        ne().simnormForward(R, D, G, x, 0, yn, 0);
        expectClose(`simnorm R=${R} D=${D} G=${G}`, yn, yj, 2e-6, 1e-8);
        const [dxj, dxn] = [dx0.slice(), dx0.slice()];
        js.simnormBackward(R, D, G, yj, 0, dy, 0, dxj, 0);
        ne().simnormBackward(R, D, G, yj, 0, dy, 0, dxn, 0);
        expectClose(`simnormBackward R=${R} D=${D} G=${G}`, dxn, dxj, 1e-5, 1e-6);
        for (const op of ['softmaxForward', 'logSoftmaxForward'] as const) {
          js[op](R, D, x, 0, yj, 0);
          ne()[op](R, D, x, 0, yn, 0);
          expectClose(`${op} R=${R} D=${D}`, yn, yj, 2e-6, 1e-6);
        }
      }
      // All -inf rows: log-softmax gives NaN like the JS engine (never a made-up finite value).
      const ninf = new Float32Array(4).fill(-Infinity);
      const lj = new Float32Array(4);
      const ln = new Float32Array(4);
      js.logSoftmaxForward(1, 4, ninf, 0, lj, 0);
      ne().logSoftmaxForward(1, 4, ninf, 0, ln, 0);
      expectClose('logSoftmax(-inf)', ln, lj, 0, 0);
    });

    it('two-hot encode/decode and soft cross-entropy', () => {
      for (const NB of [1, 13, 101]) {
        for (const n of [1, 7, 129]) {
          const x = rand(n, -3000, 3000);
          x[0] = 0;
          if (n > 2) {
            x[1] = NaN;
            x[2] = 1e30;
          }
          const tj = new Float32Array(n * NB);
          const tn = new Float32Array(n * NB);
          js.twoHotEncode(n, NB, -10, 10, x, 0, tj, 0);
          ne().twoHotEncode(n, NB, -10, 10, x, 0, tn, 0);
          expectClose(`twoHotEncode NB=${NB} n=${n}`, tn, tj, 1e-6, 1e-7);
          const logits = rand(n * NB, -3, 3);
          const oj = new Float32Array(n);
          const on = new Float32Array(n);
          js.twoHotDecode(n, NB, -10, 10, logits, 0, oj, 0);
          ne().twoHotDecode(n, NB, -10, 10, logits, 0, on, 0);
          expectClose(`twoHotDecode NB=${NB} n=${n}`, on, oj, 5e-5, 5e-6);
          const target = tj.map((v) => (Number.isNaN(v) ? 0 : v));
          js.softCrossEntropyForward(n, NB, logits, 0, target, 0, oj, 0);
          ne().softCrossEntropyForward(n, NB, logits, 0, target, 0, on, 0);
          expectClose(`softCE NB=${NB} n=${n}`, on, oj, 1e-5, 1e-6);
          const dloss = rand(n);
          const d0 = rand(n * NB);
          const [dj, dn] = [d0.slice(), d0.slice()];
          js.softCrossEntropyBackward(n, NB, logits, 0, target, 0, dloss, 0, dj, 0);
          ne().softCrossEntropyBackward(n, NB, logits, 0, target, 0, dloss, 0, dn, 0);
          expectClose(`softCEBackward NB=${NB} n=${n}`, dn, dj, 1e-5, 1e-6);
        }
      }
    });

    it('Gaussian KL forward/backward with any subset of gradients', () => {
      for (const n of [1, 7, 129, 70_001]) {
        const [mu1, ls1, mu2, ls2, dout] = [rand(n, -2, 2), rand(n, -5, 2), rand(n, -2, 2), rand(n, -5, 2), rand(n)];
        const oj = new Float32Array(n);
        const on = new Float32Array(n);
        js.gaussianKlForward(n, mu1, 0, ls1, 0, mu2, 0, ls2, 0, oj, 0);
        ne().gaussianKlForward(n, mu1, 0, ls1, 0, mu2, 0, ls2, 0, on, 0);
        expectClose(`kl n=${n}`, on, oj, 1e-7, 1e-8);
        for (const mask of [0b1111, 0b0101, 0b1010, 0]) {
          const g0 = [rand(n), rand(n), rand(n), rand(n)];
          const run = (e: Engine) => {
            const g = clones(g0).map((a, i) => ((mask >> i) & 1 ? a : null));
            e.gaussianKlBackward(n, mu1, 0, ls1, 0, mu2, 0, ls2, 0, dout, 0, g[0]!, 0, g[1]!, 0, g[2]!, 0, g[3]!, 0);
            return g;
          };
          const gj = run(js);
          const gn = run(ne());
          for (let i = 0; i < 4; i++) if (gj[i]) expectClose(`klBackward n=${n} grad ${i}`, gn[i]!, gj[i]!, 1e-7, 1e-8);
        }
      }
    });

    it('reductions, copies, optimizer and RNG (bit-identical where the JS math is the same)', () => {
      for (const n of [0, 1, 7, 13, 129, 200_003]) {
        const x = rand(n, -2, 2);
        // float64 sums in a different order (8 lanes per block): equal to ~n·eps relative
        expectClose(`sum n=${n}`, [ne().sum(n, x, 0)], [js.sum(n, x, 0)], 1e-11, 1e-12);
        expectClose(`sumSquares n=${n}`, [ne().sumSquares(n, x, 0)], [js.sumSquares(n, x, 0)], 1e-11, 0);
        const bad = x.slice();
        for (let i = 0; i < n; i += 97) bad[i] = i % 2 ? Infinity : NaN;
        expect(ne().countNonFinite(n, bad, 0)).toBe(js.countNonFinite(n, bad, 0));
        const [bj, bn] = [bad.slice(), bad.slice()];
        expect(ne().zeroNonFinite(n, bn, 0)).toBe(js.zeroNonFinite(n, bj, 0));
        expectIdentical(`zeroNonFinite n=${n}`, bn, bj);

        const y0 = rand(n);
        const pairs: [string, (e: Engine, y: Float32Array) => void][] = [
          ['copy', (e, y) => e.copy(n, x, 0, y, 0)],
          ['fill', (e, y) => e.fill(n, 0.1, y, 0)],
          ['axpy', (e, y) => e.axpy(n, -0.3, x, 0, y, 0)],
          ['scale', (e, y) => e.scale(n, 1.7, y, 0)],
          ['mul', (e, y) => e.mul(n, x, 0, y0, 0, y, 0)],
          ['mul in place', (e, y) => e.mul(n, y, 0, x, 0, y, 0)],
          ['polyak', (e, y) => e.polyak(n, 0.01, x, 0, y, 0)],
        ];
        for (const [name, f] of pairs) {
          const [yj, yn] = [y0.slice(), y0.slice()];
          f(js, yj);
          f(ne(), yn);
          expectIdentical(`${name} n=${n}`, yn, yj);
        }
        for (const decoupled of [false, true]) {
          const state0 = [rand(n), rand(n), rand(n), rand(n, 0, 1)]; // params, grads, m, v
          const run = (e: Engine) => {
            const [p, g, m, v] = clones(state0);
            e.adamStep(n, p!, 0, g!, 0, m!, 0, v!, 0, 1e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, 0.5, 7);
            return [p!, m!, v!];
          };
          const sj = run(js);
          const sn = run(ne());
          for (let i = 0; i < 3; i++) expectIdentical(`adam n=${n} decoupled=${decoupled} [${i}]`, sn[i]!, sj[i]!);
        }
        const counter = 2 ** 40 + 17; // exercises the high counter word
        const [uj, un] = [new Float32Array(n), new Float32Array(n)];
        js.randomUniform(n, 0xdeadbeef, counter, -3, 5, uj, 0);
        ne().randomUniform(n, 0xdeadbeef, counter, -3, 5, un, 0);
        expectIdentical(`randomUniform n=${n}`, un, uj);
        js.randomNormal(n, 99, counter, 0.5, 2, uj, 0);
        ne().randomNormal(n, 99, counter, 0.5, 2, un, 0);
        expectClose(`randomNormal n=${n}`, un, uj, 1e-6, 1e-6);
      }
      for (const [R, D] of [[7, 13], [129, 300], [1, 1], [300, 600]]) {
        const x = rand(R * D);
        for (const acc of [false, true]) {
          const o0 = rand(D);
          const [oj, on] = [o0.slice(), o0.slice()];
          js.sumRows(R, D, x, 0, oj, 0, acc);
          ne().sumRows(R, D, x, 0, on, 0, acc);
          expectIdentical(`sumRows R=${R} D=${D} acc=${acc}`, on, oj);
        }
      }
      for (const [R, D1, D2] of [[7, 13, 1], [129, 33, 6], [3, 0, 5]]) {
        const a = rand(R * D1);
        const b = rand(R * D2);
        const [oj, on] = [new Float32Array(R * (D1 + D2)), new Float32Array(R * (D1 + D2))];
        js.concatColumns(R, D1, D2, a, 0, b, 0, oj, 0);
        ne().concatColumns(R, D1, D2, a, 0, b, 0, on, 0);
        expectIdentical('concatColumns', on, oj);
        const [daj, dan, dbj, dbn] = [a.slice(), a.slice(), b.slice(), b.slice()];
        js.splitColumnsBackward(R, D1, D2, oj, 0, daj, 0, dbj, 0);
        ne().splitColumnsBackward(R, D1, D2, oj, 0, dan, 0, dbn, 0);
        expectIdentical('splitColumnsBackward da', dan, daj);
        expectIdentical('splitColumnsBackward db', dbn, dbj);
        ne().splitColumnsBackward(R, D1, D2, oj, 0, null, 0, dbn, 0);
      }
    });

    it('RNG draws do not depend on how a counter range is split into calls', () => {
      const whole = new Float32Array(100_000);
      const parts = new Float32Array(100_000);
      ne().randomNormal(100_000, 5, 123, 0, 1, whole, 0);
      ne().randomNormal(33_333, 5, 123, 0, 1, parts, 0);
      ne().randomNormal(66_667, 5, 123 + 33_333, 0, 1, parts, 33_333);
      expectIdentical('normal split', parts, whole);
    });
  });

  describeNative(`native engine [${simd}]: 1 and 2 threads give bit-identical results`, () => {
    it('GEMM in all variants, NormedLinear forward/backward, row-wise, reductions and RNG', () => {
      const one = native(simd, 1);
      const two = native(simd, 2);
      const results = (e: Engine) => {
        const out: Float32Array[] = [];
        const sums: number[] = [];
        dataCounter = 1_000_000; // same inputs for both engines
        for (const [M, N, K] of [[536, 512, 512], [13, 512, 256], [300, 70, 600], [256, 6, 512]]) {
          for (const ta of [false, true]) {
            for (const tb of [false, true]) {
              const C = rand(M * N);
              e.gemm(ta, tb, M, N, K, rand(M * K), 0, rand(K * N), 0, C, 0, rand(N), 0, ta);
              out.push(C);
            }
          }
        }
        for (const act of [ACT_NONE, ACT_MISH, ACT_SIMNORM] as Activation[]) {
          const [R, I, O] = [256, 96, 128];
          const x = rand(R * I);
          const W = rand(O * I);
          const gamma = rand(O);
          const beta = rand(O);
          const mask = rand(R * O).map((u) => (u > 0 ? 2 : 0));
          const [lin, out1, dout, scr] = [new Float32Array(R * O), new Float32Array(R * O), rand(R * O), new Float32Array(R * O)];
          const [mean, rstd] = [new Float32Array(R), new Float32Array(R)];
          e.normedLinearForward(R, I, O, act, 8, x, 0, W, 0, rand(O), 0, gamma, 0, beta, 0, mask, 0, lin, 0, mean, 0, rstd, 0, out1, 0);
          const [dx, dW, db, dg, dbe] = [new Float32Array(R * I), new Float32Array(O * I), new Float32Array(O), new Float32Array(O), new Float32Array(O)];
          e.normedLinearBackward(R, I, O, act, 8, x, 0, W, 0, gamma, 0, beta, 0, mask, 0, lin, 0, mean, 0, rstd, 0, out1, 0,
            dout, 0, dx, 0, dW, 0, db, 0, dg, 0, dbe, 0, scr, 0);
          out.push(lin, mean, rstd, out1, dx, dW, db, dg, dbe, scr);
        }
        const big = rand(300_006, -4, 4); // 7 · 42858
        const y = new Float32Array(big.length);
        e.mishForward(big.length, big, 0, y, 0);
        out.push(y.slice());
        e.simnormForward(big.length / 7, 7, 7, big, 0, y, 0);
        out.push(y.slice());
        e.softmaxForward(big.length / 7, 7, big, 0, y, 0);
        out.push(y.slice());
        e.randomNormal(big.length, 1, 2, 0, 1, y, 0);
        out.push(y.slice());
        sums.push(e.sum(big.length, big, 0), e.sumSquares(big.length, big, 0));
        return { out, sums };
      };
      const a = results(one);
      const b = results(two);
      expect(b.sums).toEqual(a.sums);
      a.out.forEach((arr, i) => expectIdentical(`result ${i}`, b.out[i]!, arr));
    });
  });
}

describeNative('native engine: memory', () => {
  it('works in place on SharedArrayBuffer views (zero-copy) with the same results as plain buffers', () => {
    const e = native(PATHS[0]!, 2);
    const [M, N, K] = [64, 48, 96];
    const A = rand(M * K);
    const B = rand(N * K);
    const sab = new SharedArrayBuffer(4 * (16 + M * K + N * K + M * N));
    // Views at byte offsets into one shared buffer, as the runtime lays out its arenas.
    const sA = new Float32Array(sab, 4 * 16, M * K);
    const sB = new Float32Array(sab, 4 * (16 + M * K), N * K);
    const sC = new Float32Array(sab, 4 * (16 + M * K + N * K), M * N);
    sA.set(A);
    sB.set(B);
    const C = new Float32Array(M * N);
    e.gemm(false, true, M, N, K, A, 0, B, 0, C, 0, null, 0, false);
    e.gemm(false, true, M, N, K, sA, 0, sB, 0, sC, 0, null, 0, false);
    expectIdentical('shared C', sC, C);
    // A second view of the same memory sees the native writes.
    const alias = new Float32Array(sab);
    expect(alias[16 + M * K + N * K + 5]).toBe(C[5]);
    e.fill(3, 7.5, sC, 10);
    expect(Array.from(alias.subarray(16 + M * K + N * K + 10, 16 + M * K + N * K + 13))).toEqual([7.5, 7.5, 7.5]);
  });

  it('throws ShapeError with the JS engine\'s exact message for bad sizes, offsets and rules', () => {
    const e = native(PATHS[0]!, 2);
    const f = (n: number) => new Float32Array(n);
    const same = f(8);
    const calls: [string, (x: Engine) => void][] = [
      ['gemm B too small', (x) => x.gemm(false, true, 536, 512, 512, f(536 * 512), 0, f(1000), 0, f(536 * 512), 0, null, 0, false)],
      ['gemm bad offset', (x) => x.gemm(false, false, 2, 2, 2, f(4), -1, f(4), 0, f(4), 0, null, 0, false)],
      ['gemm offset past end', (x) => x.gemm(false, false, 2, 2, 2, f(4), 1, f(4), 0, f(4), 0, null, 0, false)],
      ['gemm bias', (x) => x.gemm(false, false, 2, 2, 2, f(4), 0, f(4), 0, f(4), 0, f(1), 0, false)],
      ['gemm null A', (x) => x.gemm(false, false, 2, 2, 2, null as unknown as Float32Array, 0, f(4), 0, f(4), 0, null, 0, false)],
      ['gemm fractional dim', (x) => x.gemm(true, false, 1.5, 2, 2, f(4), 0, f(4), 0, f(4), 0, null, 0, false)],
      ['gemmBatched', (x) => x.gemmBatched(2, false, false, 2, 2, 2, f(4), 0, 0, f(4), 0, 4, f(8), 0, 4, null, 0, 0, false)],
      ['mish negative n', (x) => x.mishForward(-1, f(2), 0, f(2), 0)],
      ['sum NaN n', (x) => x.sum(NaN, f(2), 0)],
      ['copy overlap', (x) => x.copy(4, same, 0, same.subarray(2), 0)],
      ['mul shifted overlap', (x) => x.mul(4, same, 0, f(4), 0, same, 1)],
      ['gemm C overlaps A', (x) => x.gemm(false, false, 2, 2, 2, same, 0, f(4), 0, same, 2, null, 0, false)],
      ['gemm C overlaps B', (x) => x.gemm(false, true, 2, 2, 2, f(4), 0, same.subarray(1), 0, same, 0, null, 0, true)],
      ['gemm C overlaps bias', (x) => x.gemm(false, false, 2, 2, 2, f(4), 0, f(4), 0, same, 0, same, 3, false)],
      ['gemmBatched C overlaps A', (x) => x.gemmBatched(2, false, false, 1, 2, 2, same, 4, 2, f(4), 0, 0, same, 2, 2, null, 0, 0, false)],
      ['concatColumns out overlaps b', (x) => x.concatColumns(1, 2, 2, f(2), 0, same, 0, same, 1)],
      ['splitColumnsBackward da overlaps dout', (x) => x.splitColumnsBackward(1, 2, 2, same, 0, same.subarray(3), 0, null, 0)],
      ['simnorm D%G', (x) => x.simnormForward(1, 10, 3, f(10), 0, f(10), 0)],
      ['simnorm G=0', (x) => x.simnormBackward(1, 8, 0, f(8), 0, f(8), 0, f(8), 0)],
      ['normedLinear act', (x) => x.normedLinearForward(2, 2, 8, 3 as Activation, 8, f(4), 0, f(16), 0, f(8), 0, f(8), 0, f(8), 0, null, 0,
        f(16), 0, f(2), 0, f(2), 0, f(16), 0)],
      ['normedLinear group', (x) => x.normedLinearForward(2, 2, 8, ACT_SIMNORM, 3, f(4), 0, f(16), 0, f(8), 0, f(8), 0, f(8), 0, null, 0,
        f(16), 0, f(2), 0, f(2), 0, f(16), 0)],
      ['normedLinear overlap', (x) => x.normedLinearForward(2, 2, 4, ACT_NONE, 0, f(4), 0, f(8), 0, f(4), 0, f(4), 0, f(4), 0, null, 0,
        same, 0, f(2), 0, f(2), 0, same.subarray(4), 0)],
      ['normedLinearBackward dW', (x) => x.normedLinearBackward(2, 2, 4, ACT_NONE, 0, f(4), 0, f(8), 0, f(4), 0, f(4), 0, null, 0,
        f(8), 0, f(2), 0, f(2), 0, f(8), 0, f(8), 0, null, 0, f(7), 0, f(4), 0, f(4), 0, f(4), 0, f(8), 0)],
      ['twoHot NB', (x) => x.twoHotEncode(2, 0, -10, 10, f(2), 0, f(2), 0)],
      ['twoHot range', (x) => x.twoHotDecode(2, 5, 10, -10, f(10), 0, f(2), 0)],
      ['adam step', (x) => x.adamStep(2, f(2), 0, f(2), 0, f(2), 0, f(2), 0, 1e-3, 0.9, 0.999, 1e-8, 0, true, 1, 0)],
      ['rng seed', (x) => x.randomUniform(2, 2 ** 32, 0, 0, 1, f(2), 0)],
      ['rng counter', (x) => x.randomNormal(4, 1, 2 ** 53 - 2, 0, 1, f(4), 0)],
      ['rng counter + n rounds to 2^53', (x) => x.randomUniform(2, 1, 2 ** 53 - 1, 0, 1, f(2), 0)],
      ['kl optional too small', (x) => x.gaussianKlBackward(3, f(3), 0, f(3), 0, f(3), 0, f(3), 0, f(3), 0, null, 0, f(2), 0, null, 0, null, 0)],
      ['sumRows', (x) => x.sumRows(3, 4, f(12), 0, f(3), 0, true)],
      ['Uint8Array output', (x) => x.mishForward(2, f(2), 0, new Uint8Array(2) as unknown as Float32Array, 0)],
      ['plain Array input', (x) => x.sum(2, [1, 2] as unknown as Float32Array, 0)],
    ];
    for (const [label, call] of calls) {
      let want = '';
      try {
        call(js);
      } catch (err) {
        want = (err as Error).message;
      }
      expect(want, `JS engine should reject: ${label}`).not.toBe('');
      expect(() => call(e), label).toThrow(new ShapeError(want));
      try {
        call(e);
      } catch (err) {
        expect(err, label).toBeInstanceOf(ShapeError);
      }
    }
    // Native-only: only Float32Arrays reach C++.
    expect(() => e.sum(2, new Float64Array(2) as unknown as Float32Array, 0)).toThrow(
      new ShapeError('sum: x must be a Float32Array, got Float64Array (n=2)'),
    );
  });
});
