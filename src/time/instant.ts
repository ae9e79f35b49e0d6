/** Earliest representable instant; used instead of -Infinity so engine state survives a JSON snapshot. */
export const BEGINNING = -8.64e15;

export function iso(ts: number): string {
  return new Date(ts).toISOString();
}
