import { describe, expect, it } from 'vitest';
import { quantize } from '../../../test-fixtures/builders/gguf-quantize.ts';
import { gaussianMatrix } from '../../../test-fixtures/builders/safetensors.ts';
import { DEQUANTIZERS } from './gguf-quants.ts';
import { GGML_TYPE_BY_NAME } from './gguf-types.ts';

/**
 * Literal blocks, each value below worked out by hand from the block layouts of ggml-common.h and the
 * formulas of ggml-quants.c's dequantize_row_* (f16: 0x3c00 = 1, 0x3800 = 0.5, 0x3400 = 0.25, 0x4000 = 2).
 */
function block(type: string, fill: (b: Uint8Array) => void): Float32Array {
  const t = GGML_TYPE_BY_NAME.get(type)!;
  const b = new Uint8Array(t.blockBytes);
  fill(b);
  const out = new Float32Array(t.blockSize);
  DEQUANTIZERS[type](b, 1, out, 0);
  return out;
}
const f16 = (b: Uint8Array, o: number, h: number) => ((b[o] = h & 255), (b[o + 1] = h >> 8));

describe('dequantization of literal blocks', () => {
  it('Q8_0: d · q', () => {
    const y = block('Q8_0', (b) => (f16(b, 0, 0x3800), (b[2] = 0x80), (b[3] = 0x7f), (b[33] = 0xff)));
    expect([y[0], y[1], y[2], y[31]]).toEqual([-64, 63.5, 0, -0.5]);
  });
  it('Q4_0: d · (nibble − 8), low nibbles first', () => {
    const y = block('Q4_0', (b) => (f16(b, 0, 0x3c00), (b[2] = 0x3a)));
    expect([y[0], y[16], y[1], y[17]]).toEqual([10 - 8, 3 - 8, -8, -8]);
  });
  it('Q4_1: d · nibble + m', () => {
    const y = block('Q4_1', (b) => (f16(b, 0, 0x3c00), f16(b, 2, 0x3800), (b[4] = 0x3a)));
    expect([y[0], y[16], y[1]]).toEqual([10.5, 3.5, 0.5]);
  });
  it('Q5_0 and Q5_1: the fifth bit from qh (bit j for element j, bit j+16 for element j+16)', () => {
    const y = block('Q5_0', (b) => (f16(b, 0, 0x3c00), (b[2] = 1), (b[4] = 1), (b[6] = 0x37)));
    expect([y[0], y[16], y[1]]).toEqual([(7 | 16) - 16, (3 | 16) - 16, -16]);
    const z = block('Q5_1', (b) => (f16(b, 0, 0x4000), f16(b, 2, 0x3c00), (b[4] = 1), (b[8] = 0x37)));
    expect([z[0], z[16]]).toEqual([(7 | 16) * 2 + 1, 3 * 2 + 1]);
  });
  it('Q2_K: 2-bit quants, 4-bit scale and min per 16', () => {
    // scales[0] = 0x21: scale 1, min 2; scales[2] = 0x13: scale 3, min 1; qs[0] = 0b11100100
    const y = block('Q2_K', (b) => ((b[0] = 0x21), (b[2] = 0x13), (b[16] = 0xe4), f16(b, 80, 0x3c00), f16(b, 82, 0x3800)));
    expect(y[0]).toBe(1 * 0 - 0.5 * 2); // element 0: bits 0–1 of qs[0]
    expect(y[32]).toBe(3 * 1 - 0.5 * 1); // element 32: bits 2–3 of qs[0], scale index 2
    expect(y[1]).toBe(-1); // qs[1] = 0 under scale 1, min 2
  });
  it('Q3_K: 3-bit quants (hmask bit set: no −4), 6-bit scales split 4 + 2 bits', () => {
    const y = block('Q3_K', (b) => {
      b.fill(0xff, 0, 32); // hmask: high bit set everywhere …
      b[1] = 0; // … but for elements 1 and 33 (byte 1, bits 0 and 1)
      b[32] = 3; // qs[0]: element 0 = 3
      b[33] = 2; // qs[1]: element 1 = 2
      b[48] = 1; // qs[16]: element 16 = 1
      b[96] = 0x05; // scale 0 low 4 bits = 5
      b[104] = 0x02; // scale 0 high 2 bits = 2: 5 | 32 − 32 = 5; scale 1 = 0 − 32
      f16(b, 108, 0x3c00);
    });
    expect([y[0], y[1], y[16]]).toEqual([5 * 3, 5 * (2 - 4), -32 * 1]);
  });

  // Q4_K / Q5_K scales: ls = [1, 2, 3, 4, 5, 6, 7, 40], lm = [0, 1, 2, 3, 4, 5, 6, 33];
  // 40 = 0b10_1000 and 33 = 0b10_0001 put their top 2 bits in bytes 3 and 7 (bits 6–7).
  const kScales = [1, 2, 3, 4 | 0x80, 0, 1, 2, 3 | 0x80, 5 | (4 << 4), 6 | (5 << 4), 7 | (6 << 4), 8 | (1 << 4)];
  const kQuants = (b: Uint8Array, at: number) => {
    for (let i = 0; i < 128; i++) b[at + i] = (i % 16) | ((15 - (i % 16)) << 4);
  };
  it('Q4_K: d·scale·q − dmin·min per 32, low nibbles then high nibbles per 64', () => {
    const y = block('Q4_K', (b) => (f16(b, 0, 0x3c00), f16(b, 2, 0x3800), b.set(kScales, 4), kQuants(b, 16)));
    expect(y[5]).toBe(1 * 5 - 0.5 * 0); // sub-block 0, low nibble of qs[5]
    expect(y[37]).toBe(2 * 10 - 0.5 * 1); // sub-block 1, high nibble of qs[5] = 15 − 5
    expect(y[194]).toBe(7 * 2 - 0.5 * 6); // sub-block 6, low nibble of qs[98]
    expect(y[227]).toBe(40 * 12 - 0.5 * 33); // sub-block 7, high nibble of qs[99] = 15 − 3
  });
  it('Q5_K: as Q4_K plus 16 where the element’s qh bit is set', () => {
    const y = block(
      'Q5_K',
      (b) => (f16(b, 0, 0x3c00), f16(b, 2, 0x3800), b.set(kScales, 4), (b[16] = 0x01), (b[19] = 0x80), kQuants(b, 48)),
    );
    expect(y[0]).toBe(1 * (0 + 16)); // qh[0] bit 0: element 0
    expect(y[5]).toBe(5);
    expect(y[227]).toBe(40 * (12 + 16) - 0.5 * 33); // qh[3] bit 7: element 3 of sub-block 7
  });
  it('Q6_K: d · int8 scale · (6-bit q − 32), 4 + 2 bits from ql and qh', () => {
    const y = block('Q6_K', (b) => {
      b[0] = 0x21; // ql[0]: element 0 low 4 bits 1, element 64 low 4 bits 2
      b[128] = 0b11100100; // qh[0]: element 0 +0, element 32 +16, element 64 +32, element 96 +48
      b.set([2, -3 & 255, 4, 5, -6 & 255, 7, 8, 9], 192);
      f16(b, 208, 0x3400);
    });
    expect(y[0]).toBe(0.25 * 2 * (1 - 32));
    expect(y[32]).toBe(0.25 * 4 * (16 - 32));
    expect(y[64]).toBe(0.25 * -6 * (2 + 32 - 32));
    expect(y[96]).toBe(0.25 * 8 * (48 - 32));
    expect(y[16]).toBe(0.25 * -3 * -32); // second scale of the first 32
  });
});

describe('round trip through the fixture quantizers', () => {
  // relative Frobenius error ‖x̂ − x‖/‖x‖ on Gaussian rows: what each format's bits allow
  it.each([
    ['Q8_0', 0.01],
    ['Q6_K', 0.03],
    ['Q5_K', 0.06],
    ['Q4_K', 0.12],
    ['Q4_0', 0.15],
  ])('%s within %s', (type, tol) => {
    const x = gaussianMatrix(4, 512, 9);
    const t = GGML_TYPE_BY_NAME.get(type)!;
    const out = new Float32Array(x.length);
    DEQUANTIZERS[type](quantize(type, x, 512), x.length / t.blockSize, out, 0);
    let e = 0;
    let n = 0;
    x.forEach((v, i) => ((e += (out[i] - v) ** 2), (n += v * v)));
    const rel = Math.sqrt(e / n);
    expect(rel).toBeLessThan(tol);
    expect(rel).toBeGreaterThan(tol / 50);
  });
});
