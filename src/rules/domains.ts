import { z } from 'zod';
import { GenerationEventSchema, type GenerationEvent } from '../contract/event.js';
import type { EventField } from './schema.js';

export type FieldValue = string | number | boolean;

export interface FieldDomain {
  /** Every value the field can take in a valid event, when that is a short finite list (enums, booleans, hours). */
  readonly values?: readonly FieldValue[];
  /** Present in every valid event. */
  readonly required: boolean;
  /** The field holds text: a number or boolean written in a rule never equals it. */
  readonly text?: boolean;
}

const HOURS: readonly number[] = Array.from({ length: 24 }, (_, h) => h);

/** What the event contract allows in a field, read from its zod schema so the two cannot drift apart. */
export function domainOf(field: EventField): FieldDomain {
  if (field === 'localHour') return { values: HOURS, required: true };
  const declared: z.ZodType = GenerationEventSchema.shape[field];
  const required = !declared.safeParse(undefined).success;
  const inner = declared instanceof z.ZodOptional ? (declared.unwrap() as z.ZodType) : declared;
  if (inner instanceof z.ZodEnum) return { values: inner.options as FieldValue[], required };
  if (inner instanceof z.ZodBoolean) return { values: [true, false], required };
  return { required, text: !inner.safeParse(0).success && !inner.safeParse(false).success };
}

const STUB: GenerationEvent = {
  eventId: 'lint',
  type: 'generation.requested',
  occurredAt: '2026-01-01T00:00:00.000Z',
  accountId: 'lint',
  requestId: 'lint',
  plan: 'unlimited',
  unlimited: true,
  tool: 'image',
  model: 'lint',
  speed: 'fast',
  ip: '198.51.100.1',
};

/** An event whose `field` holds `value` (undefined: absent), with the time a predicate should read it at. */
export function eventWith(field: EventField, value: FieldValue | undefined): { event: GenerationEvent; ts: number } {
  if (field === 'localHour') return { event: { ...STUB, timezone: 'UTC' }, ts: Date.UTC(2026, 0, 1, Number(value ?? 0)) };
  const event: Record<string, unknown> = { ...STUB, [field]: value };
  if (value === undefined) delete event[field];
  return { event: event as GenerationEvent, ts: Date.UTC(2026, 0, 1) };
}
