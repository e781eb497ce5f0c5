// Run outputs: eval.csv in tdmpc2's results format (step,reward,seed), metrics.jsonl with every
// training scalar, and a one-line progress display. Logging belongs to the caller of update().
import { appendFileSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export class RunLogger {
  readonly evalCsv: string;
  readonly metricsJsonl: string;
  private readonly started = Date.now();
  private lastLine = '';

  /**
   * resume: the checkpoint's step, and whether the resumed run evaluates that step again (an eval
   * at it is then replaced; with eval_episodes=0, or off the eval schedule, it is kept).
   */
  constructor(readonly dir: string, private readonly seed: number, private readonly showProgress: boolean, resume: { step: number; reevaluatesStep: boolean } | null) {
    mkdirSync(dir, { recursive: true });
    this.evalCsv = path.join(dir, 'eval.csv');
    this.metricsJsonl = path.join(dir, 'metrics.jsonl');
    if (resume === null) {
      writeFileSync(this.evalCsv, 'step,reward,seed\n');
      writeFileSync(this.metricsJsonl, '');
    } else {
      // A resumed run continues the files, dropping anything logged after the checkpoint's step
      // (so a resumed run's CSV equals an uninterrupted run's).
      this.truncateAfter(resume.step, resume.reevaluatesStep);
    }
  }

  private truncateAfter(step: number, reevaluatesStep: boolean): void {
    if (existsSync(this.evalCsv)) {
      const lines = readFileSync(this.evalCsv, 'utf8').split('\n').filter((l) => l.length > 0);
      const keep = (s: number) => s < step || (s === step && !reevaluatesStep);
      const kept = [lines[0] ?? 'step,reward,seed', ...lines.slice(1).filter((l) => keep(Number(l.split(',')[0])))];
      writeFileSync(this.evalCsv, kept.join('\n') + '\n');
    } else {
      writeFileSync(this.evalCsv, 'step,reward,seed\n');
    }
    if (existsSync(this.metricsJsonl)) {
      const kept = readFileSync(this.metricsJsonl, 'utf8').split('\n').filter((l) => {
        if (!l) return false;
        try { return (JSON.parse(l) as { step: number }).step <= step; } catch { return false; }
      });
      writeFileSync(this.metricsJsonl, kept.map((l) => l + '\n').join(''));
    }
  }

  evaluation(step: number, reward: number): void {
    appendFileSync(this.evalCsv, `${step},${round1(reward)},${this.seed}\n`);
  }

  metrics(step: number, kind: 'train' | 'eval', values: Record<string, number | string>): void {
    appendFileSync(this.metricsJsonl, JSON.stringify({ step, kind, wall_s: (Date.now() - this.started) / 1000, ...values }) + '\n');
  }

  /**
   * Progress line: step, steps/s, ETA, last return (rewritten in place on a TTY). While seeding
   * (random actions, no updates) steps are ~100x faster than later, and during the pretraining
   * burst no step is taken, so these phases show their name instead of an ETA.
   */
  progress(step: number, total: number, stepsPerSec: number, lastReturn: number | null, extra = '', phase: 'seeding' | 'pretraining' | null = null): void {
    if (!this.showProgress) return;
    const eta = stepsPerSec > 0 ? (total - step) / stepsPerSec : Infinity;
    const line = `step ${step}/${total} | ${stepsPerSec.toFixed(1)} steps/s | ${phase ?? `ETA ${formatDuration(eta)}`} | last return ${lastReturn === null ? '-' : lastReturn.toFixed(1)}${extra ? ' | ' + extra : ''}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(this.lastLine.length)}`);
    else console.log(line);
    this.lastLine = line;
  }

  /** A one-off line between progress lines (first ends the line a TTY keeps rewriting). */
  note(line: string): void {
    if (!this.showProgress) return;
    if (process.stdout.isTTY && this.lastLine) process.stdout.write('\n');
    this.lastLine = '';
    console.log(line);
  }

  /** Something the user must see whether or not progress lines are on: to stderr, like a crashed actor. */
  warn(line: string): void {
    if (this.showProgress && process.stdout.isTTY && this.lastLine) process.stdout.write('\n');
    this.lastLine = '';
    console.error(`tdmpc: ${line}`);
  }

  /**
   * When seeding ends: the burst of `updates` pretraining updates that runs before the next step
   * (`doneBefore` of them already done by the run this one resumed).
   */
  announcePretraining(updates: number, doneBefore = 0): void {
    this.note(`pretraining on seed data: ${updates} updates${doneBefore > 0 ? ` (${doneBefore} done before the resume)` : ''}`);
  }

  endProgress(): void {
    if (this.showProgress && process.stdout.isTTY && this.lastLine) process.stdout.write('\n');
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}
