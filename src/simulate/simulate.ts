import { accountEvents } from './account.js';
import { DAY } from './clock.js';
import { deliver } from './delivery.js';
import type { SimulatedEvent } from './event.js';
import { isAbusive, PERSONA_NAMES, type Label, type PersonaName } from './labels.js';
import { mergeByTime } from './merge.js';
import { SimulationOptionsSchema, type ResolvedSimulationOptions, type SimulationOptions } from './options.js';
import { PERSONAS, type Account, type Window } from './personas.js';
import { deriveSeed, Random } from './random.js';

// Each consumer of randomness draws from its own stream of the run's seed, so that e.g. changing the
// delivery faults does not change which accounts exist or what they do.
const ENROLMENT_STREAM = 1;
const ACCOUNT_STREAM = 2;
const DELIVERY_STREAM = 3;

interface Enrolled {
  readonly accountId: string;
  readonly account: Account;
  readonly seed: number;
}

export interface Simulation {
  /** Ground truth, one per account, sorted by accountId. */
  readonly labels: Label[];
  /** Events in (near) occurrence order. Re-iterable: every iteration replays the same events from the seed. */
  readonly events: Iterable<SimulatedEvent>;
}

/** Accounts per persona: the mix's shares of `accounts`, rounded to sum exactly (largest remainder). */
export function apportion(accounts: number, mix: Partial<Record<PersonaName, number>>): Record<PersonaName, number> {
  const total = PERSONA_NAMES.reduce((sum, name) => sum + (mix[name] ?? 0), 0);
  const quotas = PERSONA_NAMES.map((name) => ({ name, quota: (accounts * (mix[name] ?? 0)) / total }));
  const counts = Object.fromEntries(quotas.map(({ name, quota }) => [name, Math.floor(quota)])) as Record<PersonaName, number>;
  let left = accounts - quotas.reduce((sum, { quota }) => sum + Math.floor(quota), 0);
  const byRemainder = [...quotas].sort((a, b) => (b.quota % 1) - (a.quota % 1)); // stable: ties keep persona order
  for (const { name } of byRemainder) {
    if (left-- <= 0) break;
    counts[name]++;
  }
  return counts;
}

function windowOf(options: ResolvedSimulationOptions): Window {
  const start = Date.parse(options.start);
  return { start, end: start + options.days * DAY };
}

/**
 * Creates the accounts. Account numbers are shuffled so an id says nothing about its persona or group, and
 * each account's randomness is keyed by its number alone.
 */
function enrol(options: ResolvedSimulationOptions): Enrolled[] {
  const rng = new Random(deriveSeed(options.seed, ENROLMENT_STREAM));
  const counts = apportion(options.accounts, options.mix);
  const accounts = PERSONA_NAMES.flatMap((name) => PERSONAS[name].enrol(counts[name], rng));
  const numbers = rng.shuffle(accounts.map((_, i) => i));
  const width = Math.max(6, String(accounts.length - 1).length);
  return accounts.map((account, i) => {
    const number = numbers[i] as number;
    return {
      accountId: `acc-${String(number).padStart(width, '0')}`,
      account,
      seed: deriveSeed(options.seed, ACCOUNT_STREAM, number),
    };
  });
}

function labelsOf(enrolled: readonly Enrolled[]): Label[] {
  return enrolled
    .map(({ accountId, account }) => ({ accountId, persona: account.persona, abusive: isAbusive(account.persona) }))
    .sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
}

/** Every account's stream generated lazily and merged by time, then passed through delivery faults. */
function* eventsOf(enrolled: readonly Enrolled[], options: ResolvedSimulationOptions): Generator<SimulatedEvent> {
  const window = windowOf(options);
  const streams = enrolled.map(({ accountId, account, seed }) => ({
    start: -Infinity,
    items: accountEvents(accountId, account, new Random(seed), window),
  }));
  const delivery = new Random(deriveSeed(options.seed, DELIVERY_STREAM));
  yield* deliver(mergeByTime(streams, (pending) => pending.ts), delivery, options);
}

/** A simulated population: its labels, and its events as a lazily generated, replayable stream. */
export function simulate(options: SimulationOptions): Simulation {
  const resolved = SimulationOptionsSchema.parse(options);
  const enrolled = enrol(resolved);
  return { labels: labelsOf(enrolled), events: { [Symbol.iterator]: () => eventsOf(enrolled, resolved) } };
}

export function* simulateEvents(options: SimulationOptions): Generator<SimulatedEvent> {
  yield* simulate(options).events;
}

export function labelsFor(options: SimulationOptions): Label[] {
  return simulate(options).labels;
}
