// Checkpoint file format (llm.c style: magic + version + header, then raw arrays).
//
//   bytes 0..7    magic "TDMPCCK1"
//   bytes 8..11   format version (uint32 LE)
//   bytes 12..15  header length L (uint32 LE)
//   bytes 16..    header: UTF-8 JSON {meta, sections: [{name, type, offset, length}]}, padded to 8
//   then          section payloads (raw little-endian typed-array bytes), each 8-byte aligned
//   last 8 bytes  "TDMPCEND" (detects truncation)
//
// Writes go to <path>.tmp then rename, so a crash never leaves a half-written checkpoint under the
// real name. Reads validate everything before returning and throw CheckpointError naming the problem.
import { closeSync, copyFileSync, existsSync, fstatSync, linkSync, openSync, readSync, renameSync, writeSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CheckpointError } from '../errors.js';

const MAGIC = 'TDMPCCK1';
const END = 'TDMPCEND';
export const CHECKPOINT_VERSION = 1;

type Section = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
const TYPES = { Float32Array, Float64Array, Int32Array, Uint32Array, Uint8Array } as const;
type TypeName = keyof typeof TYPES;

export interface CheckpointContents {
  meta: Record<string, unknown>;
  sections: Record<string, Section>;
}

// Arithmetic, not `(n + 7) & ~7`: bitwise operators cut to 32 bits, and a replay section or a
// whole checkpoint passes 2 GiB (5M humanoid transitions: 2.7 GB).
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Bytes per read or write call: Node and Linux move at most ~2 GiB per call. */
const IO_CHUNK_BYTES = 2 ** 30;

/**
 * Writes all of a typed array's bytes: in chunks, since one writeSync may write less than asked
 * (at most ~2 GiB), and since a byte view of a whole section above 4 GiB cannot be made (a typed
 * array holds at most 2^32 elements).
 */
function writeAll(fd: number, arr: ArrayBufferView): void {
  for (let done = 0; done < arr.byteLength;) {
    const chunk = new Uint8Array(arr.buffer, arr.byteOffset + done, Math.min(IO_CHUNK_BYTES, arr.byteLength - done));
    done += writeSync(fd, chunk);
  }
}

/** Fills a typed array's bytes from the file at `position`, in chunks (readSync may return less than asked). */
function readAll(fd: number, arr: ArrayBufferView, position: number): void {
  for (let done = 0; done < arr.byteLength;) {
    const chunk = new Uint8Array(arr.buffer, arr.byteOffset + done, Math.min(IO_CHUNK_BYTES, arr.byteLength - done));
    const n = readSync(fd, chunk, 0, chunk.length, position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

export function writeCheckpoint(file: string, contents: CheckpointContents): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const table: { name: string; type: TypeName; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, arr] of Object.entries(contents.sections)) {
    const type = arr.constructor.name as TypeName;
    if (!(type in TYPES)) throw new CheckpointError(`checkpoint section '${name}' has unsupported type ${type}`);
    table.push({ name, type, offset, length: arr.length });
    offset = align8(offset + arr.byteLength);
  }
  const headerJson = Buffer.from(JSON.stringify({ meta: contents.meta, sections: table }), 'utf8');
  const headerLen = align8(headerJson.length);
  const prefix = Buffer.alloc(16 + headerLen);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_VERSION, 8);
  prefix.writeUInt32LE(headerLen, 12);
  headerJson.copy(prefix, 16);
  prefix.fill(0x20, 16 + headerJson.length); // pad the JSON with spaces
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, prefix);
    const pad = Buffer.alloc(8);
    for (const entry of table) {
      const arr = contents.sections[entry.name];
      writeAll(fd, arr); // SharedArrayBuffer-backed views too
      const rem = align8(arr.byteLength) - arr.byteLength;
      if (rem) writeAll(fd, pad.subarray(0, rem));
    }
    writeAll(fd, Buffer.from(END, 'latin1'));
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/**
 * Makes `latest.ckpt` beside `file` the same checkpoint: a hard link (no second copy of a
 * replay-sized file) renamed over the old one, so an interruption leaves either the old or the new
 * latest.ckpt whole, never a partial one. Copies instead where the file system has no hard links.
 */
export function publishLatest(file: string): string {
  const latest = path.join(path.dirname(file), 'latest.ckpt');
  const tmp = `${latest}.tmp`;
  rmSync(tmp, { force: true });
  try {
    linkSync(file, tmp);
  } catch {
    copyFileSync(file, tmp);
  }
  renameSync(tmp, latest);
  return latest;
}

/**
 * Reads and validates a checkpoint; `key` names the argument it came from, for the error messages;
 * `skipReplay` leaves out the replay.* sections.
 * Sections are read from the file straight into their arrays: no whole-file buffer, which Node
 * refuses above 2 GiB ("File size ... is greater than 2 GiB") and which doubled the memory.
 */
export function readCheckpoint(file: string, key = 'resume', options: { skipReplay?: boolean } = {}): CheckpointContents {
  if (!existsSync(file)) throw new CheckpointError(`checkpoint '${file}' does not exist; pass ${key}=<path to a .ckpt file> (runs write them to <run folder>/checkpoints/)`);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint '${file}': ${(err as Error).message}`);
  }
  try {
    return readOpenCheckpoint(fd, file, options.skipReplay ?? false);
  } catch (err) {
    // Failed reads (and impossible sizes from a damaged table) say which file; our own errors pass as they are.
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`cannot read checkpoint '${file}': ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function readOpenCheckpoint(fd: number, file: string, skipReplay: boolean): CheckpointContents {
  const read = (length: number, position: number): Buffer => {
    const buf = Buffer.alloc(length);
    readAll(fd, buf, position);
    return buf;
  };
  const size = fstatSync(fd).size;
  const prefix = read(Math.min(size, 16), 0);
  if (size < 24 || prefix.toString('latin1', 0, 8) !== MAGIC) {
    throw new CheckpointError(`'${file}' is not a tdmpc-runtime checkpoint (bad magic number)`);
  }
  const version = prefix.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`checkpoint '${file}' has format version ${version}; this build reads version ${CHECKPOINT_VERSION}`);
  }
  if (read(8, size - 8).toString('latin1') !== END) {
    throw new CheckpointError(`checkpoint '${file}' is truncated (no end marker); it was not completely written`);
  }
  const headerLen = prefix.readUInt32LE(12);
  let header: { meta: Record<string, unknown>; sections: { name: string; type: TypeName; offset: number; length: number }[] };
  try {
    if (16 + headerLen > size - 8) throw new Error('header runs past the end');
    header = JSON.parse(read(headerLen, 16).toString('utf8'));
  } catch {
    throw new CheckpointError(`checkpoint '${file}' has a corrupt header`);
  }
  const dataStart = 16 + headerLen;
  const sections: Record<string, Section> = {};
  for (const s of header.sections) {
    const Ctor = TYPES[s.type];
    if (!Ctor) throw new CheckpointError(`checkpoint '${file}': section '${s.name}' has unknown type ${s.type}`);
    const start = dataStart + s.offset;
    const bytes = s.length * Ctor.BYTES_PER_ELEMENT;
    if (start + bytes > size - 8) throw new CheckpointError(`checkpoint '${file}': section '${s.name}' runs past the end of the file`);
    // tdmpc eval: the replay is most of a checkpoint (gigabytes) and evaluation never reads it.
    if (skipReplay && s.name.startsWith('replay.')) continue;
    const arr = new Ctor(s.length);
    readAll(fd, arr, start);
    sections[s.name] = arr;
  }
  return { meta: header.meta, sections };
}

/** Returns the named section or throws naming what is missing or mis-sized. */
export function requireSection<T extends Section>(c: CheckpointContents, name: string, ctor: { new (n: number): T; name: string }, length?: number): T {
  const s = c.sections[name];
  if (!s) throw new CheckpointError(`checkpoint has no '${name}' section; it was written by an incompatible version or config`);
  if (s.constructor.name !== ctor.name) throw new CheckpointError(`checkpoint section '${name}' is ${s.constructor.name}, expected ${ctor.name}`);
  if (length !== undefined && s.length !== length) {
    throw new CheckpointError(`checkpoint section '${name}' has ${s.length} elements but this config needs ${length}; resume with the config the checkpoint was written with`);
  }
  return s as T;
}
