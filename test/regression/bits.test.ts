import { describe, expect, it } from 'vitest';
import { countTrue, packBits, unpackBits } from '../../src/regression/bits.js';

describe('packBits / unpackBits', () => {
  it('packs bit i into byte i/8, least significant bit first', () => {
    // Bits 0, 2 and 9 → bytes 0b00000101, 0b00000010.
    const bits = Array.from({ length: 10 }, (_, i) => [0, 2, 9].includes(i));
    const text = packBits(bits);
    expect(Buffer.from(text, 'base64')).toEqual(Buffer.from([0b101, 0b10]));
    expect(unpackBits(text, 10)).toEqual(bits);
  });

  it('round-trips any length, including 0 and multiples of 8', () => {
    for (const n of [0, 1, 7, 8, 9, 300, 2004]) {
      const bits = Array.from({ length: n }, (_, i) => (i * 7919) % 3 === 0);
      expect(unpackBits(packBits(bits), n)).toEqual(bits);
    }
  });

  it('takes 4 characters per 3 bytes: 2,004 examples in 336 characters', () => {
    expect(packBits(new Array<boolean>(2004).fill(true))).toHaveLength(336);
  });

  it('refuses text that is not a bitset of n bits', () => {
    const ok = packBits([true, false, true]);
    expect(unpackBits(ok, 9)).toBeUndefined(); // needs 2 bytes
    expect(unpackBits('not base64!', 3)).toBeUndefined();
    // Bit 3 set, past n = 3: not written by packBits.
    expect(unpackBits(Buffer.from([0b1000]).toString('base64'), 3)).toBeUndefined();
  });

  it('counts true bits', () => {
    expect(countTrue([true, false, true, true])).toBe(3);
  });
});
