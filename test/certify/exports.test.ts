import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';

describe('the certify API from the package entry point', () => {
  it('exports the procedures, the dataset run, the smoothed classifier, the statistics and the renderers', () => {
    for (const name of ['certify', 'predict', 'certifyDataset', 'smoothedClassifier', 'clopperPearsonLower', 'certifiedRadius', 'binomialTestHalf', 'largestCertifiableRadius', 'mergeCertifyReports', 'certifiedCurve', 'renderCertifyText', 'renderCertifyHtml'] as const) {
      expect(typeof api[name], name).toBe('function');
    }
    expect(api.ABSTAIN).toBe(-1);
    expect(api.CERTIFY_FORMAT).toBe('advtest-certify/1');
  });

  it('largestCertifiableRadius: all n votes give p̲_A = α^(1/n), radius σ·Φ⁻¹ of it, 0 when that is ≤ ½', () => {
    // α = Φ(1)^4 makes α^(1/4) = Φ(1) = 0.8413447…, so the radius is σ·1.
    expect(api.largestCertifiableRadius(0.5, 4, 0.8413447460685429 ** 4)).toBeCloseTo(0.5, 6);
    // α = 0.01: 0.01^(1/6) = 0.464 ≤ ½ (nothing certifiable), 0.01^(1/7) = 0.518 > ½.
    expect(api.largestCertifiableRadius(1, 6, 0.01)).toBe(0);
    expect(api.largestCertifiableRadius(1, 7, 0.01)).toBeGreaterThan(0);
  });
});
