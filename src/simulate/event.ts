import type { Client } from './devices.js';
import type { Plan, Speed, Tool } from './catalog.js';

export type GenerationEventType =
  | 'generation.requested'
  | 'generation.started'
  | 'generation.completed'
  | 'generation.failed';

/**
 * A simulated platform event. Structurally the generation-event contract (`src/contract/event.ts`), kept as a
 * plain interface here so the simulator depends on the contract's shape, not on its validation code.
 */
export interface SimulatedEvent {
  eventId: string;
  type: GenerationEventType;
  /** RFC 3339 with the device's UTC offset, e.g. `2026-11-02T09:15:02.120+09:00`; `Z` for UTC devices. */
  occurredAt: string;
  accountId: string;
  requestId: string;
  plan: Plan;
  unlimited: boolean;
  tool: Tool;
  model: string;
  speed: Speed;
  ip: string;
  deviceId?: string;
  userAgent?: string;
  client?: Client;
  timezone?: string;
  country?: string;
}
