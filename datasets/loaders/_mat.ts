/**
 * A reader for MATLAB level-5 MAT-files (the format of IMDB-WIKI's `imdb.mat` / `wiki.mat`), enough
 * for struct, cell, char and numeric arrays, compressed (miCOMPRESSED, zlib) or not, either byte order.
 * Written from the published MAT-file format description. Sparse and object arrays are refused.
 * @module
 */
import { inflateSync } from "node:zlib";

/** A numeric (or logical) array, values as float64, column-major. */
export interface MatNumeric {
  kind: "numeric";
  className: string;
  dims: number[];
  data: Float64Array;
}

/** A char array: one string per row. */
export interface MatChar {
  kind: "char";
  dims: number[];
  rows: string[];
}

/** A cell array, column-major. */
export interface MatCell {
  kind: "cell";
  dims: number[];
  items: MatValue[];
}

/** A struct array: per element (column-major), a value per field. */
export interface MatStruct {
  kind: "struct";
  dims: number[];
  fields: string[];
  items: Record<string, MatValue>[];
}

/** Any value the reader returns. */
export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

/** Error for a file that is not a readable level-5 MAT-file. */
export class MatFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MatFileError";
  }
}

const MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6;
const MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15;
const MI_UTF8 = 16, MI_UTF16 = 17, MI_UTF32 = 18;

const CLASS_NAMES: Record<number, string> = {
  1: "cell",
  2: "struct",
  3: "object",
  4: "char",
  5: "sparse",
  6: "double",
  7: "single",
  8: "int8",
  9: "uint8",
  10: "int16",
  11: "uint16",
  12: "int32",
  13: "uint32",
  14: "int64",
  15: "uint64",
};

interface Element {
  type: number;
  /** The element's data bytes. */
  data: DataView;
  /** Offset just past the element (with padding). */
  next: number;
}

class Reader {
  constructor(readonly file: string, readonly le: boolean) {}

  fail(msg: string): never {
    throw new MatFileError(`${this.file}: ${msg}`);
  }

  /** Read the data element tag at `off` in `v` (normal or small format). */
  element(v: DataView, off: number, padded = true): Element {
    if (off + 8 > v.byteLength) this.fail(`truncated data element at byte ${off}`);
    const w0 = v.getUint32(off, this.le);
    const small = w0 >>> 16;
    if (small !== 0) {
      // Small data element: 2-byte size, 2-byte type, up to 4 bytes of data in the same 8 bytes.
      const type = w0 & 0xffff;
      if (small > 4) this.fail(`bad small data element (${small} bytes) at byte ${off}`);
      return { type, data: new DataView(v.buffer, v.byteOffset + off + 4, small), next: off + 8 };
    }
    const type = w0;
    const n = v.getUint32(off + 4, this.le);
    if (off + 8 + n > v.byteLength) this.fail(`data element of ${n} bytes at byte ${off} runs past the end`);
    const pad = padded && type !== MI_COMPRESSED ? (8 - (n % 8)) % 8 : 0;
    return { type, data: new DataView(v.buffer, v.byteOffset + off + 8, n), next: off + 8 + n + pad };
  }

  numbers(e: Element): Float64Array {
    const v = e.data, le = this.le;
    const size: Record<number, number> = {
      [MI_INT8]: 1,
      [MI_UINT8]: 1,
      [MI_INT16]: 2,
      [MI_UINT16]: 2,
      [MI_INT32]: 4,
      [MI_UINT32]: 4,
      [MI_SINGLE]: 4,
      [MI_DOUBLE]: 8,
      [MI_INT64]: 8,
      [MI_UINT64]: 8,
      [MI_UTF8]: 1,
      [MI_UTF16]: 2,
      [MI_UTF32]: 4,
    };
    const s = size[e.type];
    if (s === undefined) this.fail(`unexpected data type ${e.type} for numeric data`);
    const n = Math.floor(v.byteLength / s);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * s;
      switch (e.type) {
        case MI_INT8:
          out[i] = v.getInt8(o);
          break;
        case MI_UINT8:
        case MI_UTF8:
          out[i] = v.getUint8(o);
          break;
        case MI_INT16:
          out[i] = v.getInt16(o, le);
          break;
        case MI_UINT16:
        case MI_UTF16:
          out[i] = v.getUint16(o, le);
          break;
        case MI_INT32:
          out[i] = v.getInt32(o, le);
          break;
        case MI_UINT32:
        case MI_UTF32:
          out[i] = v.getUint32(o, le);
          break;
        case MI_SINGLE:
          out[i] = v.getFloat32(o, le);
          break;
        case MI_DOUBLE:
          out[i] = v.getFloat64(o, le);
          break;
        case MI_INT64:
          out[i] = Number(v.getBigInt64(o, le));
          break;
        case MI_UINT64:
          out[i] = Number(v.getBigUint64(o, le));
          break;
      }
    }
    return out;
  }

  /** Parse a miMATRIX element's contents; returns the array name and value. */
  matrix(v: DataView): [string, MatValue] {
    const dimsOf = (d: number[]) => d.reduce((a, b) => a * b, 1);
    if (v.byteLength === 0) {
      return ["", { kind: "numeric", className: "double", dims: [0, 0], data: new Float64Array(0) }];
    }
    let off = 0;
    const flags = this.element(v, off);
    off = flags.next;
    const cls = flags.data.getUint32(0, this.le) & 0xff;
    const isComplex = (flags.data.getUint32(0, this.le) & 0x800) !== 0;
    const className = CLASS_NAMES[cls] ?? `class ${cls}`;
    const dimEl = this.element(v, off);
    off = dimEl.next;
    const dims = Array.from(this.numbers(dimEl));
    const nameEl = this.element(v, off);
    off = nameEl.next;
    const name = new TextDecoder().decode(
      new Uint8Array(nameEl.data.buffer, nameEl.data.byteOffset, nameEl.data.byteLength),
    );
    const count = dimsOf(dims);
    switch (className) {
      case "cell": {
        const items: MatValue[] = [];
        for (let i = 0; i < count; i++) {
          const el = this.element(v, off);
          off = el.next;
          if (el.type !== MI_MATRIX) this.fail(`cell '${name}' item ${i} is not a matrix element`);
          items.push(this.matrix(el.data)[1]);
        }
        return [name, { kind: "cell", dims, items }];
      }
      case "struct": {
        const lenEl = this.element(v, off);
        off = lenEl.next;
        const fieldLen = this.numbers(lenEl)[0];
        const namesEl = this.element(v, off);
        off = namesEl.next;
        const raw = new Uint8Array(namesEl.data.buffer, namesEl.data.byteOffset, namesEl.data.byteLength);
        const fields: string[] = [];
        for (let p = 0; p + fieldLen <= raw.length; p += fieldLen) {
          const chunk = raw.subarray(p, p + fieldLen);
          const end = chunk.indexOf(0);
          fields.push(new TextDecoder().decode(end < 0 ? chunk : chunk.subarray(0, end)));
        }
        const items: Record<string, MatValue>[] = [];
        for (let i = 0; i < count; i++) {
          const item: Record<string, MatValue> = {};
          for (const f of fields) {
            const el = this.element(v, off);
            off = el.next;
            if (el.type !== MI_MATRIX) this.fail(`struct '${name}' field '${f}' is not a matrix element`);
            item[f] = this.matrix(el.data)[1];
          }
          items.push(item);
        }
        return [name, { kind: "struct", dims, fields, items }];
      }
      case "char": {
        const el = this.element(v, off);
        let codes: number[];
        if (el.type === MI_UTF8) {
          const text = new TextDecoder().decode(
            new Uint8Array(el.data.buffer, el.data.byteOffset, el.data.byteLength),
          );
          codes = Array.from(text, (c) => c.codePointAt(0)!);
        } else codes = Array.from(this.numbers(el));
        const nr = dims[0] ?? 0, nc = count / Math.max(nr, 1);
        const rows: string[] = [];
        for (let r = 0; r < nr; r++) {
          let s = "";
          for (let c = 0; c < nc; c++) s += String.fromCodePoint(codes[c * nr + r] ?? 0);
          rows.push(s);
        }
        return [name, { kind: "char", dims, rows }];
      }
      case "sparse":
      case "object":
        this.fail(`array '${name}' is ${className}, which this reader does not support`);
        break;
      default: {
        const re = this.element(v, off);
        off = re.next;
        const data = this.numbers(re);
        if (isComplex) this.element(v, off); // imaginary part: validated, ignored
        if (data.length !== count) this.fail(`array '${name}' has ${data.length} values, dims say ${count}`);
        return [name, { kind: "numeric", className, dims, data }];
      }
    }
    return this.fail("unreachable");
  }
}

/** Parse a level-5 MAT-file: its top-level variables by name. `file` labels error messages. */
export function readMat(bytes: Uint8Array, file = "<mat>"): Map<string, MatValue> {
  if (bytes.length < 128) throw new MatFileError(`${file}: too short for a MAT-file header`);
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 116));
  if (head.startsWith("MATLAB 7.3") || head.includes("HDF")) {
    throw new MatFileError(
      `${file}: MAT v7.3 (HDF5) files are not supported; save with -v7 or convert to CSV`,
    );
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (endian !== "IM" && endian !== "MI") {
    throw new MatFileError(`${file}: not a level-5 MAT-file (no endian mark)`);
  }
  const r = new Reader(file, endian === "IM");
  const vars = new Map<string, MatValue>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 128;
  while (off + 8 <= view.byteLength) {
    const el = r.element(view, off);
    off = el.next;
    let mat = el;
    if (el.type === MI_COMPRESSED) {
      let raw: Uint8Array;
      try {
        raw = inflateSync(new Uint8Array(el.data.buffer, el.data.byteOffset, el.data.byteLength));
      } catch (e) {
        throw new MatFileError(`${file}: corrupt compressed element: ${(e as Error).message}`);
      }
      mat = r.element(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), 0);
    }
    if (mat.type !== MI_MATRIX) continue;
    const [name, value] = r.matrix(mat.data);
    vars.set(name, value);
  }
  return vars;
}

/** A numeric field as a flat array, or throw naming the field. */
export function matNumbers(v: MatValue | undefined, what: string): Float64Array {
  if (!v || v.kind !== "numeric") {
    throw new MatFileError(`${what}: expected a numeric array, got ${v?.kind ?? "nothing"}`);
  }
  return v.data;
}

/** A cell array of strings (or a char matrix, one string per row) as strings. */
export function matStrings(v: MatValue | undefined, what: string): string[] {
  if (v?.kind === "char") return v.rows;
  if (v?.kind === "cell") {
    return v.items.map((it, i) => {
      if (it.kind !== "char") throw new MatFileError(`${what}{${i + 1}}: expected a string, got ${it.kind}`);
      return it.rows.join("");
    });
  }
  throw new MatFileError(`${what}: expected a cell array of strings, got ${v?.kind ?? "nothing"}`);
}
