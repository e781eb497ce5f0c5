import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { publishLatest, readCheckpoint, requireSection, writeCheckpoint } from '../src/checkpoint/checkpoint-file.js';
import { CheckpointError } from '../src/errors.js';

describe('checkpoint file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-ckpt-'));

  it('latest.ckpt is the newest checkpoint, replaced atomically and without a second copy', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tdmpc-latest-'));
    const a = path.join(dir, 'step-1.ckpt');
    const b = path.join(dir, 'step-2.ckpt');
    writeCheckpoint(a, { meta: { step: 1 }, sections: { x: new Float32Array([1]) } });
    writeCheckpoint(b, { meta: { step: 2 }, sections: { x: new Float32Array([2]) } });
    const latest = publishLatest(a);
    expect(readCheckpoint(latest).meta.step).toBe(1);
    publishLatest(b);
    expect(readCheckpoint(latest).meta.step).toBe(2);
    expect(statSync(latest).ino).toBe(statSync(b).ino); // a hard link: no extra disk
    expect(readCheckpoint(a).meta.step).toBe(1); // the older checkpoint is untouched
    expect(readdirSync(dir).sort()).toEqual(['latest.ckpt', 'step-1.ckpt', 'step-2.ckpt']);
  });

  it('round-trips meta and typed sections bit-exactly, SharedArrayBuffer views included', () => {
    const f32 = new Float32Array(new SharedArrayBuffer(4 * 5)).map((_, i) => i / 3);
    const f64 = Float64Array.from([Math.PI, -0, NaN]);
    const i32 = Int32Array.from([1, -2, 3]);
    const u8 = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);
    const file = path.join(dir, 'a.ckpt');
    writeCheckpoint(file, { meta: { step: 12, name: 'x' }, sections: { f32, f64, i32, u8 } });
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const c = readCheckpoint(file);
    expect(c.meta).toEqual({ step: 12, name: 'x' });
    expect(Array.from(c.sections.f32)).toEqual(Array.from(f32));
    expect(Object.is((c.sections.f64 as Float64Array)[1], -0)).toBe(true);
    expect(Number.isNaN((c.sections.f64 as Float64Array)[2])).toBe(true);
    expect(Array.from(c.sections.i32)).toEqual([1, -2, 3]);
    expect(Array.from(c.sections.u8)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(requireSection(c, 'f32', Float32Array, 5).length).toBe(5);
    expect(() => requireSection(c, 'f32', Float32Array, 6)).toThrow(/has 5 elements but this config needs 6/);
    expect(() => requireSection(c, 'missing', Float32Array)).toThrow(/no 'missing' section/);
  });

  it('skipReplay leaves out the replay sections (tdmpc eval reads gigabytes less)', () => {
    const file = path.join(dir, 'with-replay.ckpt');
    writeCheckpoint(file, { meta: { m: 1 }, sections: { 'model.params': new Float32Array([1, 2]), 'replay.obs': new Float32Array(1000), 'replay.flags': new Uint8Array(10) } });
    expect(Object.keys(readCheckpoint(file).sections).sort()).toEqual(['model.params', 'replay.flags', 'replay.obs']);
    const agentOnly = readCheckpoint(file, 'checkpoint', { skipReplay: true });
    expect(Object.keys(agentOnly.sections)).toEqual(['model.params']);
    expect(Array.from(agentOnly.sections['model.params'])).toEqual([1, 2]);
  });

  it('rejects missing, foreign, truncated and corrupt files with a clear error', () => {
    expect(() => readCheckpoint(path.join(dir, 'none.ckpt'))).toThrow(/does not exist/);
    const foreign = path.join(dir, 'foreign.ckpt');
    writeFileSync(foreign, 'hello world, not a checkpoint at all');
    expect(() => readCheckpoint(foreign)).toThrow(CheckpointError);
    expect(() => readCheckpoint(foreign)).toThrow(/bad magic/);
    const good = path.join(dir, 'good.ckpt');
    writeCheckpoint(good, { meta: {}, sections: { a: new Float32Array(100) } });
    const bytes = readFileSync(good);
    const truncated = path.join(dir, 'trunc.ckpt');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 50));
    expect(() => readCheckpoint(truncated)).toThrow(/truncated/);
    const corrupt = Buffer.from(bytes);
    corrupt.write('{{{{', 16, 'latin1');
    const corruptFile = path.join(dir, 'corrupt.ckpt');
    writeFileSync(corruptFile, corrupt);
    expect(() => readCheckpoint(corruptFile)).toThrow(/corrupt header/);
    // A header length past the end of the file, a file shorter than the prefix, a folder.
    const longHeader = Buffer.from(bytes);
    longHeader.writeUInt32LE(bytes.length, 12);
    const longFile = path.join(dir, 'long-header.ckpt');
    writeFileSync(longFile, longHeader);
    expect(() => readCheckpoint(longFile)).toThrow(/corrupt header/);
    const tiny = path.join(dir, 'tiny.ckpt');
    writeFileSync(tiny, 'TDMPC');
    expect(() => readCheckpoint(tiny)).toThrow(/bad magic/);
    expect(() => readCheckpoint(dir)).toThrow(CheckpointError);
  });

  it('writes and reads checkpoints above 2 GiB (a replay of 5M humanoid transitions is 2.7 GB)', () => {
    // Node refused to read a file above 2 GiB at once ("File size ... is greater than 2 GiB"), and
    // section offsets past 2 GiB went negative ((n + 7) & ~7 is 32-bit). Two sections of 1.08 GB
    // and a small one after them: its offset is past 2^31. The big arrays are never filled (only
    // the elements set below are backed by memory until the read).
    const n = 270_000_000;
    const a = new Float32Array(n);
    const b = new Uint8Array(n * 4 + 3); // odd length: padding before the next section
    const c = new Int32Array([7, -8, 9]);
    a[0] = 1.5; a[n - 1] = -2.5; b[0] = 3; b[b.length - 1] = 4;
    const file = path.join(dir, 'big.ckpt');
    try {
      writeCheckpoint(file, { meta: { size: 'big' }, sections: { a, b, c } });
      expect(statSync(file).size).toBeGreaterThan(2 ** 31);
      const back = readCheckpoint(file);
      expect(back.meta).toEqual({ size: 'big' });
      const ra = back.sections.a as Float32Array;
      const rb = back.sections.b as Uint8Array;
      expect([ra.length, ra[0], ra[1], ra[n - 1]]).toEqual([n, 1.5, 0, -2.5]);
      expect([rb.length, rb[0], rb[rb.length - 1]]).toEqual([n * 4 + 3, 3, 4]);
      expect(Array.from(back.sections.c)).toEqual([7, -8, 9]);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
