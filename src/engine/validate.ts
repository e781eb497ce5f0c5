// Argument validation shared by the kernel backends (the native engine mirrors these messages in
// C++, so every message is built from the same few templates; see ShapeCheck below).
//
// Message templates, always "<op>: <what> (<shape>)" where <shape> lists the op's recorded dims and
// flags as "name=value" separated by spaces (flags as 0/1), in the order the op recorded them:
//   "<op>: <dim> must be a non-negative integer, got <v> (<shape>)"
//   "<op>: <buf> offset must be a non-negative integer, got <off> (<shape>)"
//   "<op>: <buf> is required but got <null|undefined> (<shape>)"
//   "<op>: <buf> needs <n> floats from offset <off> but has <length> (<shape>)"
//   "<op>: <buf1> overlaps <buf2> (<shape>)"
//   "<op>: <free-form rule>, got <values> (<shape>)"   (ShapeCheck.fail)
// "has <length>" is the whole array's length, not the length left after the offset.
//
// Kernels run millions of times per training run, so the success path records names and numbers into
// preallocated slots and builds no strings; the shape string is built only when throwing.
import { ShapeError } from '../errors.js';

/** Any typed array the kernels accept: Float32Array normally, Float64Array in float64 gradient checks. */
export interface FloatArrayLike {
  readonly length: number;
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly BYTES_PER_ELEMENT: number;
}

const MAX_RECORDED = 16;

function isNonNegativeInteger(v: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Reusable validator: begin(op), record dims/flags, checkDims(), then check buffers. One instance per
 * engine (a worker thread has its own), never shared across concurrent calls.
 */
export class ShapeCheck {
  private op = '';
  private readonly names: string[] = new Array<string>(MAX_RECORDED).fill('');
  private readonly values: number[] = new Array<number>(MAX_RECORDED).fill(0);
  private readonly isFlag: boolean[] = new Array<boolean>(MAX_RECORDED).fill(false);
  private count = 0;

  /** Starts validating a call of `op`; forgets the previous op's dims. */
  begin(op: string): this {
    this.op = op;
    this.count = 0;
    return this;
  }

  /** Records a size (validated by checkDims) that also appears in error messages. */
  dim(name: string, value: number): this {
    if (this.count < MAX_RECORDED) {
      this.names[this.count] = name;
      this.values[this.count] = value;
      this.isFlag[this.count] = false;
      this.count++;
    }
    return this;
  }

  /** Records a boolean shown as 0/1 in error messages (never invalid). */
  flag(name: string, value: boolean): this {
    if (this.count < MAX_RECORDED) {
      this.names[this.count] = name;
      this.values[this.count] = value ? 1 : 0;
      this.isFlag[this.count] = true;
      this.count++;
    }
    return this;
  }

  /** Throws unless every recorded dim is a non-negative integer. Call before computing buffer sizes. */
  checkDims(): this {
    for (let i = 0; i < this.count; i++) {
      if (!this.isFlag[i] && !isNonNegativeInteger(this.values[i])) {
        this.fail(`${this.names[i]} must be a non-negative integer, got ${String(this.values[i])}`);
      }
    }
    return this;
  }

  /** Throws unless array holds `needed` floats starting at the non-negative integer `offset`. */
  buffer(name: string, array: FloatArrayLike | null | undefined, offset: number, needed: number): this {
    if (array === null || array === undefined) {
      this.fail(`${name} is required but got ${String(array)}`);
    }
    // As the native engine: a plain Array or another typed array (a Uint8Array would silently
    // truncate outputs) is refused; Float64Array is the float64 gradient checks' exception.
    if (!(array instanceof Float32Array) && !(array instanceof Float64Array)) {
      const typed = ArrayBuffer.isView(array) && !(array instanceof DataView);
      this.fail(`${name} must be a Float32Array, got ${typed ? array.constructor.name : String(array)}`);
    }
    this.checkRange(name, array, offset, needed);
    return this;
  }

  /** Like buffer(), but null means "not wanted" and passes (its offset is then ignored). */
  optional(name: string, array: FloatArrayLike | null | undefined, offset: number, needed: number): this {
    if (array === null) return this;
    return this.buffer(name, array, offset, needed);
  }

  /** Throws if the element ranges [aOff, aOff+na) of a and [bOff, bOff+nb) of b share memory. */
  noOverlap(
    nameA: string, a: FloatArrayLike | null, aOff: number, na: number,
    nameB: string, b: FloatArrayLike | null, bOff: number, nb: number,
  ): this {
    if (a === null || b === null || na === 0 || nb === 0 || a.buffer !== b.buffer) return this;
    const aStart = a.byteOffset + aOff * a.BYTES_PER_ELEMENT;
    const aEnd = aStart + na * a.BYTES_PER_ELEMENT;
    const bStart = b.byteOffset + bOff * b.BYTES_PER_ELEMENT;
    const bEnd = bStart + nb * b.BYTES_PER_ELEMENT;
    if (aStart < bEnd && bStart < aEnd) this.fail(`${nameA} overlaps ${nameB}`);
    return this;
  }

  /** Throws ShapeError "<op>: <what> (<shape>)". */
  fail(what: string): never {
    throw new ShapeError(`${this.op}: ${what} (${this.shape()})`);
  }

  /** "M=536 N=512 K=512 transA=0 transB=1": the recorded dims, for messages. */
  shape(): string {
    let s = '';
    for (let i = 0; i < this.count; i++) {
      if (i > 0) s += ' ';
      s += `${this.names[i]}=${String(this.values[i])}`;
    }
    return s;
  }

  private checkRange(name: string, array: FloatArrayLike, offset: number, needed: number): void {
    if (!isNonNegativeInteger(offset)) {
      this.fail(`${name} offset must be a non-negative integer, got ${String(offset)}`);
    }
    if (offset + needed > array.length) {
      this.fail(`${name} needs ${needed} floats from offset ${offset} but has ${array.length}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Stand-alone helpers for code outside the kernels (layers, buffers) where one small allocation per
// call does not matter. Same message templates as ShapeCheck.

/** "M=536 N=512" from a dims record (booleans as 0/1). */
export function formatShape(dims: Record<string, number | boolean>): string {
  let s = '';
  for (const key of Object.keys(dims)) {
    const v = dims[key];
    if (s !== '') s += ' ';
    s += `${key}=${typeof v === 'boolean' ? (v ? 1 : 0) : String(v)}`;
  }
  return s;
}

/** Throws ShapeError unless every value in dims is a non-negative integer. */
export function checkDims(op: string, dims: Record<string, number>): void {
  for (const key of Object.keys(dims)) {
    const v = dims[key];
    if (!isNonNegativeInteger(v)) {
      throw new ShapeError(`${op}: ${key} must be a non-negative integer, got ${String(v)} (${formatShape(dims)})`);
    }
  }
}

/** Throws ShapeError unless array holds `needed` floats from the non-negative integer `offset`. */
export function checkBuffer(
  op: string, name: string, array: FloatArrayLike | null | undefined, offset: number, needed: number,
  shapeDesc: string,
): void {
  if (array === null || array === undefined) {
    throw new ShapeError(`${op}: ${name} is required but got ${String(array)} (${shapeDesc})`);
  }
  if (!isNonNegativeInteger(offset)) {
    throw new ShapeError(`${op}: ${name} offset must be a non-negative integer, got ${String(offset)} (${shapeDesc})`);
  }
  if (offset + needed > array.length) {
    throw new ShapeError(`${op}: ${name} needs ${needed} floats from offset ${offset} but has ${array.length} (${shapeDesc})`);
  }
}
