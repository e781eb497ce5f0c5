// The Grafana dashboard reads only metrics the runtime exports (so a rename cannot silently blank a
// panel), and every exported family carries the tdmpc_ prefix and base-unit/_total naming.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunMetrics } from '../src/metrics/registry.js';
import { allocateBlock } from '../src/metrics/block.js';
import { ACTOR_LAYOUT, LEARNER_LAYOUT } from '../src/metrics/layouts.js';
import { ReplayBuffer } from '../src/replay/replay-buffer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function exportedFamilies(): Promise<Map<string, string>> {
  const metrics = new RunMetrics({
    inserts: () => 0, replay: ReplayBuffer.create({ numRings: 2, ringCapacity: 8, obsDim: 3, actionDim: 1 }, true),
    actorBlocks: [allocateBlock(ACTOR_LAYOUT), allocateBlock(ACTOR_LAYOUT)], learnerBlock: allocateBlock(LEARNER_LAYOUT),
    runInfo: { task: 't' }, task: 't',
  });
  const text = await metrics.scrape();
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe('metrics naming and the dashboard', () => {
  it('exported families follow Prometheus naming', async () => {
    const families = await exportedFamilies();
    expect(families.size).toBeGreaterThan(25);
    for (const [name, type] of families) {
      expect(name).toMatch(/^tdmpc_[a-z0-9_]+$/);
      if (type === 'counter') expect(name, name).toMatch(/_total$/);
      else expect(name, name).not.toMatch(/_total$/);
      if (type === 'histogram' && name !== 'tdmpc_episode_return') expect(name, name).toMatch(/_(seconds|updates)$/);
      expect(name, name).not.toMatch(/_(ms|milliseconds|minutes)(_|$)/);
    }
  });

  it('every dashboard query names exported metrics only', async () => {
    const families = await exportedFamilies();
    const dash = JSON.parse(readFileSync(path.join(root, 'dashboards', 'tdmpc-runtime.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(15);
    for (const expr of exprs) {
      for (const m of expr.matchAll(/\btdmpc_[a-z0-9_]+/g)) {
        const base = m[0].replace(/_(bucket|sum|count)$/, (s) => (families.has(m[0]) ? s : ''));
        expect(families.has(base), `${m[0]} in ${expr}`).toBe(true);
      }
    }
  });
});
