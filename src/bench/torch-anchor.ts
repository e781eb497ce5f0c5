// Runs the PyTorch anchor (shared/anchors/torch_tdmpc2_cpu.py) in the same invocation as our
// benchmark, so both are timed on the same machine at the same time (prom-client style), and
// profiles an engine: per-kernel time of a workload, to say where the time goes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../engine/engine.js';
import { CliError } from '../errors.js';

const INSTALL_HINT =
  'install it with `apt-get install -y python3-torch libopenblas0-openmp`, then point BLAS at the OpenMP OpenBLAS ' +
  '(see the header of shared/anchors/torch_tdmpc2_cpu.py: update-alternatives --set libblas.so.3-x86_64-linux-gnu ' +
  '/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3, same for liblapack.so.3 and libopenblas.so.0)';

/** The anchor script: $TDMPC_TORCH_ANCHOR, else <repo>/../shared/anchors/torch_tdmpc2_cpu.py. */
export function torchAnchorPath(): string {
  const env = process.env.TDMPC_TORCH_ANCHOR;
  if (env) return env;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, '..', 'shared', 'anchors', 'torch_tdmpc2_cpu.py');
    dir = path.dirname(dir);
  }
  throw new CliError('cannot find the tdmpc-runtime package root to locate ../shared/anchors/torch_tdmpc2_cpu.py; set TDMPC_TORCH_ANCHOR');
}

export interface TorchTimes {
  planMs: number;
  updateMs: number;
  /** Fastest runs (less sensitive to other load on the machine than the medians). */
  planMinMs: number;
  updateMinMs: number;
  /** The anchor's summary line, verbatim. */
  line: string;
}

/** Runs the anchor (tuned environment, as its header prescribes) and parses its medians. */
export function runTorchAnchor(size: 'S' | 'M', threads: number): TorchTimes {
  const script = torchAnchorPath();
  if (!existsSync(script)) throw new CliError(`--vs-torch: anchor script not found at ${script}; set TDMPC_TORCH_ANCHOR`);
  const python = process.env.TDMPC_PYTHON ?? '/usr/bin/python3';
  const res = spawnSync(python, [script, size, String(threads)], {
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 1 << 24,
    env: {
      ...process.env,
      OPENBLAS_CORETYPE: 'SkylakeX',
      MALLOC_MMAP_THRESHOLD_: '2000000000',
      MALLOC_TRIM_THRESHOLD_: '4000000000',
      MALLOC_TOP_PAD_: '536870912',
    },
  });
  if (res.error) {
    const e = res.error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new CliError(`--vs-torch: ${python} not found; ${INSTALL_HINT}`);
    throw new CliError(`--vs-torch: running ${python} ${script} failed: ${e.message}`);
  }
  const out = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
  if (/No module named ['"]?torch/.test(out)) throw new CliError(`--vs-torch: PyTorch is missing for ${python}; ${INSTALL_HINT}`);
  const plan = /PLAN median ([\d.]+) ms \(min ([\d.]+)\)/.exec(out);
  const upd = /UPDATE median ([\d.]+) ms \(min ([\d.]+)\)/.exec(out);
  if (res.status !== 0 || !plan || !upd) {
    throw new CliError(`--vs-torch: the anchor exited with ${res.status} without 'PLAN median X ms ... UPDATE median Y ms':\n${out.trim().slice(-2000)}`);
  }
  const line = out.split('\n').find((l) => l.includes('PLAN median')) ?? '';
  return {
    planMs: Number(plan[1]), updateMs: Number(upd[1]), planMinMs: Number(plan[2]), updateMinMs: Number(upd[2]), line: line.trim(),
  };
}

/** Median and minimum of `iters` timed calls after `warmup` untimed ones, in ms. */
export function timeMedian(fn: () => void, warmup: number, iters: number): { median: number; min: number } {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(ts.length / 2)], min: ts[0] };
}

/**
 * Wraps every method of an engine to accumulate wall time per kernel call site kind: GEMMs and
 * NormedLinear passes are keyed by their shapes ("gemm NT 768x384x134"), other kernels by name.
 * The wrapper adds ~0.2 us per call; compare `sum` with the workload's time for the JS share.
 */
export function profileEngine(engine: Engine): { engine: Engine; table: Map<string, { ms: number; calls: number }>; reset(): void } {
  const table = new Map<string, { ms: number; calls: number }>();
  const key = (name: string, a: unknown[]): string => {
    if (name === 'gemm') return `gemm ${a[0] ? 'T' : 'N'}${a[1] ? 'T' : 'N'} ${a[2]}x${a[3]}x${a[4]}`;
    if (name === 'gemmBatched') return `gemmBatched ${a[0]}x ${a[1] ? 'T' : 'N'}${a[2] ? 'T' : 'N'} ${a[3]}x${a[4]}x${a[5]}`;
    if (name === 'normedLinearForward' || name === 'normedLinearBackward') return `${name} ${a[0]}x${a[1]}->${a[2]} act${a[3]}`;
    return name;
  };
  const proxy = new Proxy(engine, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || prop === 'dispose') return v;
      const name = String(prop);
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const r = (v as (...x: unknown[]) => unknown).apply(target, args);
        const dt = performance.now() - t0;
        const k = key(name, args);
        const e = table.get(k);
        if (e) { e.ms += dt; e.calls++; } else table.set(k, { ms: dt, calls: 1 });
        return r;
      };
    },
  });
  return { engine: proxy, table, reset: () => table.clear() };
}

/** The top kernels of a profile, per run: { "gemm NT ...": { ms, calls, share } }, plus totals. */
export function profileSummary(
  table: Map<string, { ms: number; calls: number }>, runs: number, runMs: number, top = 16,
): Record<string, unknown> {
  const rows = [...table.entries()].sort((a, b) => b[1].ms - a[1].ms);
  let kernelMs = 0;
  for (const [, v] of rows) kernelMs += v.ms;
  const kernels: Record<string, { ms: number; calls: number; share: number }> = {};
  for (const [k, v] of rows.slice(0, top)) {
    kernels[k] = { ms: +(v.ms / runs).toFixed(3), calls: v.calls / runs, share: +(v.ms / runs / runMs).toFixed(3) };
  }
  const byName: Record<string, number> = {};
  for (const [k, v] of rows) {
    const n = k.split(' ')[0];
    byName[n] = +((byName[n] ?? 0) + v.ms / runs).toFixed(3);
  }
  return {
    run_ms: +runMs.toFixed(3),
    kernel_ms: +(kernelMs / runs).toFixed(3),
    host_ms: +(runMs - kernelMs / runs).toFixed(3),
    kernel_calls: rows.reduce((s, [, v]) => s + v.calls, 0) / runs,
    by_kernel: byName,
    top: kernels,
  };
}

/** Adds a per-kernel profile of `makeRun(profilingEngine)` (first call warms up) to a bench result. */
export function addProfile(result: Record<string, unknown>, engine: Engine, makeRun: (e: Engine) => () => void, iters: number): void {
  const prof = profileEngine(engine);
  const run = makeRun(prof.engine);
  run();
  prof.reset();
  const runs = Math.min(iters, 5);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) run();
  result.profile = profileSummary(prof.table, runs, (performance.now() - t0) / runs);
}

/** Adds the same-run torch comparison (median and min ratios, torch GFLOP/s, load warning). */
export function addTorchComparison(
  result: Record<string, unknown>, ours: { median: number; min: number }, flops: number,
  torchMs: number, torchMinMs: number, line: string,
): void {
  result.torch_ms = torchMs;
  result.ratio = +(ours.median / torchMs).toFixed(3);
  result.torch_min_ms = torchMinMs;
  result.ratio_min = +(ours.min / torchMinMs).toFixed(3);
  result.torch_gflops = +(flops / torchMs / 1e6).toFixed(1);
  result.torch = line;
  const warning = torchSpeedWarning(flops, torchMs);
  if (warning) result.warning = warning;
}

/**
 * Tuned torch runs these workloads at 60-100 GFLOP/s (whole workload, not GEMM peak); a BLAS that
 * is not openblas-openmp gives ~6. Below 30 the comparison is not meaningful: say why.
 */
export function torchSpeedWarning(flops: number, ms: number): string | null {
  const gflops = flops / ms / 1e6;
  if (gflops >= 30) return null;
  return `torch ran at ${gflops.toFixed(1)} GFLOP/s on this workload (tuned: 60-100): check that BLAS points at ` +
    'openblas-openmp (update-alternatives, see the header of shared/anchors/torch_tdmpc2_cpu.py)';
}

