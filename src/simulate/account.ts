import { isUnlimited, type Plan } from './catalog.js';
import { formatOccurredAt } from './clock.js';
import type { GenerationEventType, SimulatedEvent } from './event.js';
import { MinHeap } from './heap.js';
import { mergeByTime } from './merge.js';
import type { Account, Window } from './personas.js';
import type { Random } from './random.js';
import type { GenerationRequest } from './sessions.js';

/** One generation of one account: the request plus what its events need to name it. */
interface Generation {
  readonly accountId: string;
  /** Per-account sequence number: with the account id it makes request and event ids unique and stable. */
  readonly number: number;
  readonly plan: Plan;
  readonly request: GenerationRequest;
}

/**
 * An event not yet built: its time, type and generation. Thousands wait at once in the merge heaps (one per
 * account, plus generations in flight), so they stay this small and the full event object is only built
 * as it leaves the merge, where it dies young; that halves the garbage collector's work.
 */
export interface PendingEvent {
  readonly ts: number;
  readonly type: GenerationEventType;
  readonly generation: Generation;
}

const ID_SUFFIX: Record<GenerationEventType, string> = {
  'generation.requested': 'r',
  'generation.started': 's',
  'generation.completed': 'c',
  'generation.failed': 'f',
};

export function buildEvent({ ts, type, generation }: PendingEvent): SimulatedEvent {
  const { accountId, number, plan, request } = generation;
  const { job, where } = request;
  const event: SimulatedEvent = {
    eventId: `evt-${accountId}-${number}-${ID_SUFFIX[type]}`,
    type,
    occurredAt: formatOccurredAt(ts, where.locale.zone),
    accountId,
    requestId: `req-${accountId}-${number}`,
    plan,
    unlimited: isUnlimited(plan, job.speed),
    tool: job.tool,
    model: job.model,
    speed: job.speed,
    ip: where.ip,
    userAgent: where.device.userAgent,
    client: where.device.client,
    timezone: where.locale.zone,
    country: where.locale.country,
  };
  // API keys have no fingerprint, so the field is absent. Added last rather than spread in: a spread builds
  // a slower object shape, and millions of these are built.
  if (where.device.deviceId !== undefined) event.deviceId = where.device.deviceId;
  return event;
}

/**
 * One account's events in occurrence order over the window: each request in it as `requested`, then
 * `started` (unless rejected) and `completed` or `failed`. Later lifecycle events wait in a small heap until
 * no earlier request remains, so memory is bounded by the generations in flight.
 */
export function* accountEvents(
  accountId: string,
  account: Account,
  rng: Random,
  window: Window,
): Generator<PendingEvent> {
  const later = new MinHeap<PendingEvent>((a, b) => a.ts < b.ts);
  let generations = 0;
  for (const request of mergeByTime(account.sessions(rng, window), (r) => r.at)) {
    const at = Math.round(request.at); // events carry whole milliseconds
    if (at >= window.end) break;
    while ((later.peek()?.ts ?? Infinity) <= at) yield later.pop() as PendingEvent;
    if (at < window.start) continue;

    const generation: Generation = { accountId, number: generations++, plan: account.plan, request };
    const { job } = request;
    yield { ts: at, type: 'generation.requested', generation };
    if (job.outcome !== 'rejected') later.push({ ts: at + job.queueMs, type: 'generation.started', generation });
    const outcome = job.outcome === 'completed' ? 'generation.completed' : 'generation.failed';
    later.push({ ts: at + job.renderMs, type: outcome, generation });
  }
  while (later.size > 0) yield later.pop() as PendingEvent;
}
