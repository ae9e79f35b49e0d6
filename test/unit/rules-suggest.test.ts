import { describe, expect, it } from 'vitest';
import { closest, didYouMean, editDistance } from '../../src/rules/suggest.js';

describe('edit distance for "did you mean"', () => {
  it.each([
    ['threshold', 'threshold', 0],
    ['treshold', 'threshold', 1],
    ['thershold', 'threshold', 1], // transposition counts as one edit
    ['acountId', 'accountId', 1],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%j → %j is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('suggests the nearest candidate only when it is a plausible slip', () => {
    const keys = ['kind', 'window', 'threshold'];
    expect(closest('treshold', keys)).toBe('threshold');
    expect(closest('Window', keys)).toBe('window');
    expect(closest('colour', keys)).toBeUndefined();
    expect(closest('threshold', keys)).toBeUndefined(); // already valid: nothing to suggest
  });

  it('lists the valid names when nothing is close', () => {
    expect(didYouMean('treshold', ['kind', 'threshold'], 'keys')).toBe('did you mean `threshold`?');
    expect(didYouMean('zzz', ['kind', 'threshold'], 'keys')).toBe('valid keys: `kind`, `threshold`');
  });

  it('does not compare hostile megabyte names (bounded cost)', () => {
    const started = Date.now();
    expect(closest('x'.repeat(1 << 20), ['threshold'])).toBeUndefined();
    expect(closest('threshold', ['y'.repeat(1 << 20)])).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
