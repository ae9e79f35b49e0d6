/** "Did you mean …?" for names people mistype: keys, fields, enum values, list and rule names. */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("treshold", "acountId", "fiedl"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[rows - 1]![cols - 1]!;
}

/** Names longer than this are never compared: a hostile 1 MB key must not cost a quadratic table. */
const MAX_COMPARED = 128;

/**
 * The candidate closest to `input`, if it is close enough to be a slip rather than a different word: at most a third
 * of the input's length in edits (at least one), or equal ignoring case.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  if (input.length > MAX_COMPARED) return undefined;
  const limit = Math.max(1, Math.floor(input.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    if (name === input || name.length > MAX_COMPARED) continue;
    const distance = name.toLowerCase() === input.toLowerCase() ? 0 : editDistance(input, name);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** "did you mean `x`?" or, when nothing is close, the list of what is valid. */
export function didYouMean(input: string, candidates: readonly string[], what: string): string {
  const near = closest(input, candidates);
  if (near !== undefined) return `did you mean \`${near}\`?`;
  return `valid ${what}: ${candidates.map((c) => `\`${c}\``).join(', ')}`;
}
