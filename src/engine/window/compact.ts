/**
 * Per-key arrays are tiny and there are millions of keys. `push` onto a full array grows its capacity by 16 slots,
 * which for a one-element array is most of the key's memory; appending into an exact-size copy is cheaper overall.
 */
export function append<T>(items: readonly T[], item: T): T[] {
  const out = new Array<T>(items.length + 1);
  for (let i = 0; i < items.length; i++) out[i] = items[i]!;
  out[items.length] = item;
  return out;
}

/** An exact-size copy without the item at `index`. */
export function without<T>(items: readonly T[], index: number): T[] {
  const out = new Array<T>(items.length - 1);
  for (let i = 0, k = 0; i < items.length; i++) if (i !== index) out[k++] = items[i]!;
  return out;
}

/** The empty list every small per-key list starts as: shared, as lists are only ever replaced, never written. */
export const NONE: readonly never[] = Object.freeze([]);
