import { describe, expect, it } from 'vitest';
import { fixtureFileName, labelFromFileName } from '../../src/data/file-names.js';

describe('labelFromFileName', () => {
  it('reads label<k> from the base name', () => {
    expect(labelFromFileName('fixtures/images/mnist-test-1029-label5.png')).toBe(5);
    expect(labelFromFileName('label12.jpg')).toBe(12);
    expect(labelFromFileName('/a/b/x_LABEL3_y.png')).toBe(3);
  });

  it('returns undefined without a label', () => {
    expect(labelFromFileName('mnist-test-12.png')).toBeUndefined();
    expect(labelFromFileName('/data/label7/img.png')).toBeUndefined();
    expect(labelFromFileName('relabel3.png')).toBeUndefined();
    expect(labelFromFileName('label3x.png')).toBeUndefined();
    expect(labelFromFileName('labels.png')).toBeUndefined();
  });

  it('inverts fixtureFileName', () => {
    const name = fixtureFileName('mnist', 'test', 1405, 7);
    expect(name).toBe('mnist-test-1405-label7.png');
    expect(labelFromFileName(name)).toBe(7);
  });
});
