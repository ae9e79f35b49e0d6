import type { Plan } from '../catalog.js';
import type { PersonaName } from '../labels.js';
import type { Random } from '../random.js';
import type { SessionPlan } from '../sessions.js';

/** The simulated period in epoch ms, end exclusive. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/** One simulated account: what it is, and how it uses the platform. */
export interface Account {
  readonly persona: PersonaName;
  readonly plan: Plan;
  /**
   * The account's sessions in start order, generated lazily day by day so memory stays flat however long
   * the window. All mutable state lives inside the call, so an account can be replayed from the same seed.
   */
  sessions(rng: Random, window: Window): Iterable<SessionPlan>;
}

export interface Persona {
  readonly name: PersonaName;
  /** Creates `count` accounts, drawing whatever members of a group share: a home line, an office, a device. */
  enrol(count: number, rng: Random): Account[];
}
