/**
 * The IDX format of (Fashion-)MNIST: 2 zero bytes, an element-type byte (0x08 = unsigned byte,
 * the only type supported here), a dimension count d, d big-endian uint32 sizes, then the
 * elements row-major. Files may be gzipped (detected from the gzip magic bytes, not the name).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors.js';

export interface IdxArray {
  dims: number[];
  /** Row-major elements; a view into the file's bytes. */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** Parse IDX bytes; `file` only names the source in errors. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const fix = 're-download the file or reinstall the dataset';
  if (bytes.length < 4) {
    throw new UserError(`IDX file ${file} is truncated: ${bytes.length} bytes, shorter than the 4-byte magic number; ${fix}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(bytes[2] in TYPE_NAMES) || bytes[3] === 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new UserError(`${file} is not an IDX file: bad magic number 0x${magic} (expected 0x000008NN); ${fix}`);
  }
  if (bytes[2] !== 0x08) {
    throw new UserError(
      `IDX file ${file} holds ${TYPE_NAMES[bytes[2]]} elements (type 0x${bytes[2].toString(16).padStart(2, '0')}); only unsigned bytes (0x08) are supported`,
    );
  }
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new UserError(`IDX file ${file} is truncated inside its header (${bytes.length} of ${headerBytes} bytes); ${fix}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw new UserError(
      `IDX file ${file} is truncated: its header declares ${dims.join('×')} = ${expected} bytes of data but only ${actual} follow; ${fix}`,
    );
  }
  if (actual > expected) {
    throw new UserError(
      `IDX file ${file} has ${actual - expected} bytes after the ${dims.join('×')} = ${expected} its header declares; ${fix}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Read (and gunzip when it starts with the gzip magic 1f 8b) and parse one IDX file. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read IDX file ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new UserError(
        `gzip file ${path} is corrupt or truncated (${(err as Error).message}); re-download the file or reinstall the dataset`,
      );
    }
  }
  return parseIdx(bytes, path);
}
