// A replay column above 4 GiB in the threaded runtime (obs of 16M+ humanoid transitions, e.g.
// buffer_size=40000000 with 2 actors): Node's structured clone hands a worker the whole
// SharedArrayBuffer but a typed-array view cut to 32 bits of bytes, so the actor's first write past
// the cut threw "offset is out of bounds" and the actor was restarted until the run stopped. Workers
// rebuild the views over the whole buffers (wholeReplayViews). The 4 GiB buffer is never filled:
// only the pages written are backed by memory.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocateReplayStorage } from '../src/replay/replay-buffer.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'runtime', 'replay-views-worker.mjs');

describe('replay views in worker threads', () => {
  it('a column above 4 GiB reaches a worker whole', async () => {
    const storage = allocateReplayStorage({ numRings: 1, ringCapacity: 4, obsDim: 1, actionDim: 1 }, true);
    const length = 2 ** 30 + 1024; // floats: 4 GiB + 4 KiB
    storage.obs = new Float32Array(new SharedArrayBuffer(length * 4));
    const worker = new Worker(fixture, { workerData: { storage } });
    const reply = await new Promise<{ received: number; whole: number; bytes: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(reply.bytes).toBe(length * 4);
    expect([1024, length]).toContain(reply.received); // Node 20 delivers the length modulo 4 GiB of bytes
    expect(reply.whole).toBe(length);
    expect(storage.obs[length - 1]).toBe(42); // the worker's write landed in the shared column
  });
});
