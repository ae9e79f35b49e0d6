import { buildEvent, type PendingEvent } from './account.js';
import { MINUTE } from './clock.js';
import type { SimulatedEvent } from './event.js';
import { MinHeap } from './heap.js';
import type { Random } from './random.js';

/** The longest a late event trails the events around it, as the pipeline's allowed lateness must absorb. */
export const MAX_LATENESS_MS = 3 * MINUTE;
/** At-least-once delivery re-sends an event shortly after the original. */
const MAX_REDELIVERY_DELAY_MS = MINUTE;

export interface DeliveryFaults {
  /** Share of events held back by up to three minutes (a phone offline, a slow partition). */
  readonly lateFraction: number;
  /** Share of events delivered twice, the copy up to a minute after the original. */
  readonly duplicateFraction: number;
}

interface Held {
  readonly release: number;
  readonly order: number;
  readonly event: SimulatedEvent;
}

/**
 * Builds and delivers an in-order stream the way a real collector would: mostly in order, some events late, some twice.
 * A held event is released when the stream reaches its release time, so it trails everything delivered
 * before it by less than its delay: never more than three minutes.
 */
export function* deliver(stream: Iterable<PendingEvent>, rng: Random, faults: DeliveryFaults): Generator<SimulatedEvent> {
  const held = new MinHeap<Held>((a, b) => a.release < b.release || (a.release === b.release && a.order < b.order));
  let order = 0;
  for (const pending of stream) {
    const { ts } = pending;
    const event = buildEvent(pending);
    while ((held.peek()?.release ?? Infinity) <= ts) yield (held.pop() as Held).event;
    if (rng.chance(faults.lateFraction)) {
      held.push({ release: ts + rng.uniform(1, MAX_LATENESS_MS), order: order++, event });
    } else {
      yield event;
    }
    if (rng.chance(faults.duplicateFraction)) {
      held.push({ release: ts + rng.uniform(0, MAX_REDELIVERY_DELAY_MS), order: order++, event: { ...event } });
    }
  }
  while (held.size > 0) yield (held.pop() as Held).event;
}
