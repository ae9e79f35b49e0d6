import { createHash } from 'node:crypto';

/** Deterministic id from the parts that define a record, so a replay of the same input yields the same ids. */
export function deterministicId(prefix: string, ...parts: Array<string | number>): string {
  return `${prefix}_${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 22)}`;
}
