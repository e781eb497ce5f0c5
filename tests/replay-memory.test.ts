// A replay larger than the machine's memory is refused before any work. It is allocated and filled
// at the start (fresh slots are NaN), so buffer_size=1000000000 with a long run either died from
// an allocation failure or was killed by the system, without a message.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkReplayColumnsFit, checkReplayFitsMemory } from '../src/config/derive.js';
import { loadConfig } from '../src/config/load.js';
import { runTraining } from '../src/trainer/run.js';
import { ConfigError } from '../src/errors.js';
import { TINY_THREADS, workDir } from './fixtures/runtime/args.js';

const GiB = 2 ** 30;

describe('replay memory', () => {
  it('names the replay, its size, the machine\'s memory and the buffer_size that fits', () => {
    const cfg = loadConfig(['runtime=sync']);
    expect(() => checkReplayFitsMemory(cfg, 1_000_000, 537_000_000, 8 * GiB)).not.toThrow();
    expect(() => checkReplayFitsMemory(cfg, 10_000_000, 5_370_000_000, 4 * GiB)).toThrow(new ConfigError(
      'the replay of 10,000,000 transitions needs 5.0 GiB of memory (537 bytes each), but this machine has 4.0 GiB and the rest of the run needs about 1 GiB; '
      + 'lower buffer_size so the replay holds at most 5,998,557 transitions (TD-MPC2 keeps 1,000,000)'));
    const threads = loadConfig(['actors=2']);
    expect(() => checkReplayFitsMemory(threads, 10_000_000, 5_370_000_000, 4 * GiB)).toThrow(/^the replay of 10,000,000 transitions \(each of the 2 actors' shards may hold the whole run\) needs 5\.0 GiB/);
  });

  it('refuses a column beyond what one typed array holds (its allocation threw "Invalid typed array length")', () => {
    expect(() => checkReplayColumnsFit(64_000_000, 67)).not.toThrow();
    expect(() => checkReplayColumnsFit(65_000_000, 67)).toThrow(new ConfigError(
      'the replay of 65,000,000 transitions would hold 4,355,000,000 values in its widest column (67 per transition), more than the 4,294,967,296 one JavaScript typed array can hold; '
      + 'lower buffer_size so the replay holds at most 64,103,989 transitions'));
    expect(() => checkReplayColumnsFit(2 ** 31, 1)).toThrow('the replay of 2,147,483,648 transitions is more than the 2,147,483,647 it can index; lower buffer_size');
  });

  it('both runtimes refuse a replay beyond this machine\'s memory before any work', async () => {
    const sync = [...TINY_THREADS.filter((a) => a !== 'runtime=threads' && a !== 'metrics.port=0'), 'runtime=sync'];
    for (const base of [sync, TINY_THREADS]) {
      const work = workDir('replay-memory');
      // 10^9 humanoid transitions: 500 GiB.
      const run = runTraining([...base, 'task=humanoid-run', 'steps=1000000000', 'buffer_size=1000000000', `work_dir=${work}`]);
      await expect(run).rejects.toThrow(ConfigError);
      await expect(run).rejects.toThrow(/^the replay of 1,000,000,000 transitions needs 500\.1 GiB of memory \(537 bytes each\), but this machine has [\d.]+ GiB .*lower buffer_size so the replay holds at most [\d,]+ transitions/);
      expect(existsSync(path.join(work, 'humanoid-run'))).toBe(false);
    }
  });
});
