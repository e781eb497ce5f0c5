import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReplayBuffer, allocateBatch, FLAG_LAST, FLAG_TERMINATED } from '../src/replay/replay-buffer.js';
import { restoreReplay, savedRingCapacity } from '../src/replay/replay-checkpoint.js';
import { readCheckpoint, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { CheckpointError } from '../src/errors.js';
import { RngStream } from '../src/engine/rng.js';

// Writes episodes whose observation encodes (ring, episode, step) so slices can be checked exactly.
function fill(buf: ReplayBuffer, ring: number, episodes: number[], obsDim = 3, actionDim = 2): void {
  const obs = new Float32Array(obsDim);
  const act = new Float32Array(actionDim);
  const mu = new Float32Array(actionDim);
  const sd = new Float32Array(actionDim);
  for (const len of episodes) {
    const ep = buf.beginEpisode(ring);
    for (let k = 0; k <= len; k++) {
      obs[0] = ring; obs[1] = ep; obs[2] = k;
      const last = k === len;
      act.fill(k); mu.fill(k + 0.5); sd.fill(0.1);
      buf.append(ring, ep, obs, 0, last ? null : act, 0, k + 1, last ? FLAG_LAST : 0, last ? null : mu, last ? null : sd, 0, 7);
    }
  }
}

describe('replay buffer', () => {
  it('samples slices of H+1 steps that never cross an episode boundary, with aligned fields', () => {
    const buf = ReplayBuffer.create({ numRings: 2, ringCapacity: 64, obsDim: 3, actionDim: 2 });
    fill(buf, 0, [5, 2, 9]);
    fill(buf, 1, [3, 3, 3, 3]);
    const H = 3, B = 64;
    const batch = allocateBatch(B, H, 3, 2);
    const rng = new RngStream(1);
    for (let rep = 0; rep < 20; rep++) {
      buf.sample(batch, rng);
      for (let b = 0; b < B; b++) {
        const ring = batch.obs[b * 3], ep = batch.obs[b * 3 + 1], k0 = batch.obs[b * 3 + 2];
        for (let t = 0; t <= H; t++) {
          const o = (t * B + b) * 3;
          expect(batch.obs[o]).toBe(ring);
          expect(batch.obs[o + 1]).toBe(ep);
          expect(batch.obs[o + 2]).toBe(k0 + t);
          if (t < H) {
            expect(batch.action[(t * B + b) * 2]).toBe(k0 + t);
            expect(batch.reward[t * B + b]).toBe(k0 + t + 1);
            expect(batch.expertMean[(t * B + b) * 2]).toBe(k0 + t + 0.5);
          }
        }
        expect(batch.version[b]).toBe(7);
      }
    }
    // Episode of length 2 has 3 slots and can never hold a 4-step slice.
    expect(buf.size()).toBe(6 + 3 + 10 + 16);
  });

  it('never samples across the ring wrap into overwritten data', () => {
    const buf = ReplayBuffer.create({ numRings: 1, ringCapacity: 10, obsDim: 3, actionDim: 2 });
    fill(buf, 0, [4, 4, 4, 4, 4]); // 25 slots through a 10-slot ring
    const batch = allocateBatch(128, 2, 3, 2);
    buf.sample(batch, new RngStream(2));
    for (let b = 0; b < 128; b++) {
      const ep = batch.obs[b * 3 + 1];
      expect(ep).toBeGreaterThanOrEqual(3);
      for (let t = 0; t <= 2; t++) expect(batch.obs[(t * 128 + b) * 3 + 1]).toBe(ep);
    }
  });

  it('is deterministic for a given RNG state and records terminations', () => {
    const buf = ReplayBuffer.create({ numRings: 1, ringCapacity: 32, obsDim: 3, actionDim: 2 });
    const obs = new Float32Array(3), act = new Float32Array(2);
    const ep = buf.beginEpisode(0);
    for (let k = 0; k < 6; k++) {
      obs[2] = k;
      buf.append(0, ep, obs, 0, act, 0, 1, k === 5 ? FLAG_TERMINATED : 0, act, act, 0, 0);
    }
    obs[2] = 6;
    buf.append(0, ep, obs, 0, null, 0, 0, FLAG_LAST, null, null, 0, 0);
    const a = allocateBatch(16, 3, 3, 2), b = allocateBatch(16, 3, 3, 2);
    buf.sample(a, new RngStream(9, 100));
    buf.sample(b, new RngStream(9, 100));
    expect(Array.from(a.obs)).toEqual(Array.from(b.obs));
    for (let i = 0; i < 16; i++) {
      for (let t = 0; t < 3; t++) expect(a.terminated[t * 16 + i]).toBe(a.obs[(t * 16 + i) * 3 + 2] === 5 ? 1 : 0);
    }
  });

  it('writes reanalysed expert values back only while the slot is unchanged', () => {
    const buf = ReplayBuffer.create({ numRings: 1, ringCapacity: 8, obsDim: 3, actionDim: 2 });
    fill(buf, 0, [6]);
    const batch = allocateBatch(1, 2, 3, 2);
    buf.sample(batch, new RngStream(3));
    const mean = new Float32Array([0.25, -0.25]), std = new Float32Array([0.5, 0.5]);
    expect(buf.writeBackExpert(batch, 0, 1, mean, std, 0)).toBe(true);
    const slot = batch.start[0] + 1;
    expect(buf.data.expertMean[slot * 2]).toBe(0.25);
    fill(buf, 0, [6]); // overwrites the ring: generations change
    expect(buf.writeBackExpert(batch, 0, 1, mean, std, 0)).toBe(false);
  });

  it('starts filled with NaN so unwritten data is never trained on silently', () => {
    const buf = ReplayBuffer.create({ numRings: 1, ringCapacity: 4, obsDim: 2, actionDim: 1 }, true);
    expect(buf.data.obs.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Number.isNaN(buf.data.obs[0])).toBe(true);
    const batch = allocateBatch(1, 3, 2, 1);
    expect(() => buf.sample(batch, new RngStream(1))).toThrow(/no complete slice/);
  });

  // Resuming with more steps grows the replay (it is sized by the run's length): the saved rings
  // go through a real checkpoint file into larger rings.
  const saveAndRead = (buf: ReplayBuffer) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tdmpc-replay-')), 'replay.ckpt');
    writeCheckpoint(file, { meta: {}, sections: Object.fromEntries(Object.entries(buf.data).map(([k, v]) => [`replay.${k}`, v])) });
    return readCheckpoint(file);
  };
  // The (ring, episode, first step) of every valid slice start, found by sampling until no new one appears.
  const validStarts = (buf: ReplayBuffer, H: number): string[] => {
    const B = 512;
    const batch = allocateBatch(B, H, 3, 2);
    const rng = new RngStream(4);
    const seen = new Set<string>();
    for (let rep = 0; rep < 8; rep++) {
      buf.sample(batch, rng);
      for (let b = 0; b < B; b++) seen.add(`${batch.obs[b * 3]}/${batch.obs[b * 3 + 1]}/${batch.obs[b * 3 + 2]}`);
    }
    return [...seen].sort();
  };

  it('grows a never-wrapped replay slot for slot: same data, heads and samples', () => {
    const buf = ReplayBuffer.create({ numRings: 2, ringCapacity: 24, obsDim: 3, actionDim: 2 });
    fill(buf, 0, [5, 7, 4]);
    fill(buf, 1, [9, 9]);
    const ckpt = saveAndRead(buf);
    expect(savedRingCapacity(ckpt, 2)).toBe(24);
    const grown = ReplayBuffer.create({ numRings: 2, ringCapacity: 40, obsDim: 3, actionDim: 2 });
    restoreReplay(ckpt, grown);
    for (let r = 0; r < 2; r++) {
      expect(grown.head(r)).toBe(buf.head(r));
      const n = buf.head(r);
      expect(Array.from(grown.data.obs.subarray(r * 40 * 3, (r * 40 + n) * 3))).toEqual(Array.from(buf.data.obs.subarray(r * 24 * 3, (r * 24 + n) * 3)));
      expect(Array.from(grown.data.episode.subarray(r * 40, r * 40 + n))).toEqual(Array.from(buf.data.episode.subarray(r * 24, r * 24 + n)));
      expect(Number.isNaN(grown.data.obs[(r * 40 + n) * 3])).toBe(true); // the room it grew by is fresh
    }
    expect(grown.size()).toBe(buf.size());
    // Heads and positions are unchanged, so a given RNG state draws the same slices.
    const a = allocateBatch(64, 3, 3, 2), b = allocateBatch(64, 3, 3, 2);
    buf.sample(a, new RngStream(6, 10));
    grown.sample(b, new RngStream(6, 10));
    expect(Array.from(b.obs)).toEqual(Array.from(a.obs));
    expect(Array.from(b.expertMean)).toEqual(Array.from(a.expertMean));
    // New episodes continue after the old ones: ids stay unique in the ring.
    fill(grown, 0, [3]);
    expect(grown.data.episode[buf.head(0)]).toBe(3);
    expect(grown.head(0)).toBe(buf.head(0) + 4);
  });

  it('grows a wrapped replay keeping every valid slice, oldest first, then wraps the larger ring', () => {
    const buf = ReplayBuffer.create({ numRings: 1, ringCapacity: 10, obsDim: 3, actionDim: 2 });
    fill(buf, 0, [4, 4, 4, 4, 4]); // 25 slots through a 10-slot ring: positions 15..24 held
    const H = 2;
    const before = validStarts(buf, H);
    const grown = ReplayBuffer.create({ numRings: 1, ringCapacity: 16, obsDim: 3, actionDim: 2 });
    restoreReplay(saveAndRead(buf), grown);
    // Position 15 (the writer's next slot, never part of a valid slice) is dropped; 16..24 move to slots 0..8.
    expect(grown.head(0)).toBe(9);
    expect(Array.from({ length: 9 }, (_, k) => `${grown.data.obs[k * 3 + 1]}:${grown.data.obs[k * 3 + 2]}`))
      .toEqual(['3:1', '3:2', '3:3', '3:4', '4:0', '4:1', '4:2', '4:3', '4:4']);
    expect(validStarts(grown, H)).toEqual(before);
    // Room for 7 more slots before anything old is overwritten, then the larger ring wraps as usual.
    fill(grown, 0, [5]);
    expect(grown.head(0)).toBe(15);
    expect(validStarts(grown, H)).toEqual([...before, '0/5/0', '0/5/1', '0/5/2', '0/5/3'].sort());
    fill(grown, 0, [4, 4]);
    for (const start of validStarts(grown, H)) expect(Number(start.split('/')[1])).toBeGreaterThanOrEqual(4);
    // A ring filled exactly to capacity: its slot 0 is already the writer's next slot, dropped too.
    const full = ReplayBuffer.create({ numRings: 1, ringCapacity: 10, obsDim: 3, actionDim: 2 });
    fill(full, 0, [4, 4]);
    const fullGrown = ReplayBuffer.create({ numRings: 1, ringCapacity: 16, obsDim: 3, actionDim: 2 });
    restoreReplay(saveAndRead(full), fullGrown);
    expect(fullGrown.head(0)).toBe(9);
    expect(Array.from(fullGrown.data.obs.subarray(0, 3))).toEqual([0, 0, 1]);
    expect(validStarts(fullGrown, H)).toEqual(validStarts(full, H));
  });

  it('restores a replay of the same size as a plain copy and refuses one that does not fit', () => {
    const buf = ReplayBuffer.create({ numRings: 1, ringCapacity: 10, obsDim: 3, actionDim: 2 });
    fill(buf, 0, [4, 4, 4, 4, 4]);
    const ckpt = saveAndRead(buf);
    const same = ReplayBuffer.create({ numRings: 1, ringCapacity: 10, obsDim: 3, actionDim: 2 });
    restoreReplay(ckpt, same);
    for (const [k, v] of Object.entries(buf.data)) expect(Array.from(same.data[k as keyof typeof same.data])).toEqual(Array.from(v));
    const smaller = ReplayBuffer.create({ numRings: 1, ringCapacity: 8, obsDim: 3, actionDim: 2 });
    expect(() => restoreReplay(ckpt, smaller)).toThrow(CheckpointError);
    expect(() => savedRingCapacity(ckpt, 3)).toThrow(/10 slots, which do not split into 3 rings/);
    expect(() => restoreReplay({ meta: {}, sections: {} }, same)).toThrow(/no replay .*save_buffer=false/);
  });
});
