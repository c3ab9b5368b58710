import { sha256 } from '@noble/hashes/sha2.js';

/**
 * What the library's modules use of node:crypto — createHash('sha256') for the configuration hash,
 * per-(attack, ε) seeds and dataset fingerprints — on @noble/hashes, for the browser build only
 * (browser-substitutes.ts). Same bytes in, same digest out, so reports hash alike on both.
 */
class Digest extends Uint8Array {
  /** Buffer#readUInt32BE, which evaluate.ts reads a seed with. */
  readUInt32BE(offset = 0): number {
    return new DataView(this.buffer, this.byteOffset, this.byteLength).getUint32(offset, false);
  }
}

class Sha256 {
  private readonly h = sha256.create();
  update(data: string | ArrayBufferView): this {
    this.h.update(typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return this;
  }
  digest(): Digest;
  digest(encoding: 'hex'): string;
  digest(encoding?: 'hex'): Digest | string {
    const bytes = this.h.digest();
    if (encoding === undefined) return new Digest(bytes);
    if (encoding !== 'hex') throw new Error(`digest encoding ${String(encoding)} is not available in the browser build`);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
}

export function createHash(algorithm: string): Sha256 {
  if (algorithm !== 'sha256') throw new Error(`hash ${algorithm} is not available in the browser build (sha256 is)`);
  return new Sha256();
}
