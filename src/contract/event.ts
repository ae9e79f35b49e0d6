import { z } from 'zod';

/** Largest NDJSON line / Kafka message accepted as an event; larger input is a bad event. */
export const MAX_EVENT_BYTES = 16 * 1024;

/** Longest id (eventId, accountId, requestId) and IANA zone name the contract accepts. */
export const MAX_ID_LENGTH = 128;
export const MAX_ZONE_LENGTH = 64;
export const COUNTRY_CODE = /^[A-Z]{2}$/;

const id = z.string().min(1).max(MAX_ID_LENGTH);

// Constructing an Intl formatter costs ~50µs, so zone verdicts are memoised; the cap keeps hostile input from growing it.
const zoneVerdicts = new Map<string, boolean>();
const MAX_ZONE_VERDICTS = 2048;

export function isIanaZone(zone: string): boolean {
  let verdict = zoneVerdicts.get(zone);
  if (verdict === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      verdict = true;
    } catch {
      verdict = false;
    }
    if (zoneVerdicts.size < MAX_ZONE_VERDICTS) zoneVerdicts.set(zone, verdict);
  }
  return verdict;
}

export const EVENT_TYPES = [
  'generation.requested',
  'generation.started',
  'generation.completed',
  'generation.failed',
] as const;

/**
 * The platform's generation event, exactly as `shared/spec/events.md` defines it: only the ids have length bounds
 * (the whole message is bounded by MAX_EVENT_BYTES). Unknown extra fields are accepted and dropped.
 */
export const GenerationEventSchema = z.object({
  eventId: id,
  type: z.enum(EVENT_TYPES),
  occurredAt: z.iso.datetime({ offset: true, local: false }),
  accountId: id,
  requestId: id,
  plan: z.string(),
  unlimited: z.boolean(),
  tool: z.enum(['image', 'video']),
  model: z.string(),
  speed: z.enum(['fast', 'relaxed']),
  ip: z.union([z.ipv4(), z.ipv6()]),
  deviceId: z.string().optional(),
  userAgent: z.string().optional(),
  client: z.enum(['web', 'ios', 'android', 'api']).optional(),
  timezone: z.string().min(1).max(MAX_ZONE_LENGTH).refine(isIanaZone, 'not an IANA time zone').optional(),
  country: z.string().regex(COUNTRY_CODE, 'not an ISO 3166-1 alpha-2 code').optional(),
});

export type GenerationEvent = z.infer<typeof GenerationEventSchema>;
export type EventType = GenerationEvent['type'];

/** Fields rules may read: the contract's, plus `localHour` derived from `occurredAt` in the account's zone. */
export type EventFieldName = keyof GenerationEvent | 'localHour';
export const EVENT_FIELDS: [EventFieldName, ...EventFieldName[]] = [
  'localHour',
  ...(Object.keys(GenerationEventSchema.shape) as Array<keyof GenerationEvent>),
];
