import { z } from 'zod';
import { Duration } from '../time/duration.js';

const Limit = z.number().int().min(0).max(1_000_000);

export const Policy = z
  .object({
    time: z
      .object({
        /** How far behind the newest event time an event may arrive and still count. */
        allowedLateness: Duration.prefault('5m'),
        /** How long (event time) an eventId is remembered to drop redeliveries. */
        dedupeHorizon: Duration.prefault('15m'),
        /** A generation `requested` but never completed stops counting as in flight after this. */
        inflightTimeout: Duration.prefault('15m'),
      })
      .strict()
      .prefault({}),
    quota: z
      .object({
        /** Fast generations per local day, per plan and tool; plans not listed have no daily Fast limit. */
        plans: z.record(z.string(), z.object({ image: Limit.optional(), video: Limit.optional() }).strict()),
        /** Models that have a Relaxed queue; others are blocked until local midnight once the limit is reached. */
        relaxedModels: z.array(z.string().min(1)),
      })
      .strict(),
    health: z
      .object({
        concurrency: z
          .object({ cap: z.number().int().min(1), sustain: Duration, cooldown: Duration })
          .strict()
          .optional(),
        sustained: z
          .object({
            bucket: Duration,
            minEvents: z.number().int().min(1),
            atLeast: z.number().int().min(1).max(168),
            of: z.number().int().min(1).max(168),
            throttle: Duration,
          })
          .strict()
          .refine((c) => c.atLeast <= c.of, { message: 'atLeast must not exceed of', path: ['atLeast'] })
          .optional(),
      })
      .strict()
      .prefault({}),
    enforcement: z
      .object({
        /** Strike points count towards escalation for this long after the strike. */
        lookback: Duration,
        pauseAt: z.number().int().min(1),
        suspendAt: z.number().int().min(1),
        /** After an appeal restores access, reaching `pauseAt` again within this period suspends permanently. */
        probation: Duration,
        /** What an upheld appeal does: keep Unlimited paused, or suspend permanently. */
        onAppealUpheld: z.enum(['paused', 'suspended']).default('paused'),
      })
      .strict()
      .refine((e) => e.suspendAt >= e.pauseAt, { message: 'suspendAt must be at least pauseAt', path: ['suspendAt'] }),
  })
  .strict();

export type Policy = z.infer<typeof Policy>;
export type EnforcementPolicy = Policy['enforcement'];
