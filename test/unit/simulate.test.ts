import { isIP } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { isIanaZone } from '../../src/contract/event.js';
import { MAX_LATENESS_MS } from '../../src/simulate/delivery.js';
import type { SimulatedEvent } from '../../src/simulate/event.js';
import { ABUSIVE_PERSONAS, HUMAN_PERSONAS, PERSONA_NAMES, type PersonaName } from '../../src/simulate/labels.js';
import { DEFAULT_MIX, type SimulationOptions } from '../../src/simulate/options.js';
import { Random } from '../../src/simulate/random.js';
import { apportion, labelsFor, simulate, simulateEvents } from '../../src/simulate/simulate.js';

const START = Date.parse('2026-11-02T00:00:00Z');
const DAY = 86_400_000;

const EVENT_TYPES = ['generation.requested', 'generation.started', 'generation.completed', 'generation.failed'];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;


const CONTRACT_FIELDS = new Set([
  'eventId', 'type', 'occurredAt', 'accountId', 'requestId', 'plan', 'unlimited', 'tool', 'model',
  'speed', 'ip', 'deviceId', 'userAgent', 'client', 'timezone', 'country',
]);

/** The event contract's field rules, checked by hand so this test does not depend on the contract module. */
function contractProblems(e: SimulatedEvent): string[] {
  const problems: string[] = [];
  const id = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 128;
  if (!id(e.eventId)) problems.push('eventId');
  if (!EVENT_TYPES.includes(e.type)) problems.push('type');
  if (!RFC3339.test(e.occurredAt) || Number.isNaN(Date.parse(e.occurredAt))) problems.push('occurredAt');
  if (!id(e.accountId)) problems.push('accountId');
  if (!id(e.requestId)) problems.push('requestId');
  if (!['unlimited', 'pro', 'basic'].includes(e.plan)) problems.push('plan');
  if (typeof e.unlimited !== 'boolean') problems.push('unlimited');
  if (!['image', 'video'].includes(e.tool)) problems.push('tool');
  if (!e.model) problems.push('model');
  if (!['fast', 'relaxed'].includes(e.speed)) problems.push('speed');
  if (isIP(e.ip) === 0) problems.push('ip');
  if (e.deviceId !== undefined && !id(e.deviceId)) problems.push('deviceId');
  if (e.client !== undefined && !['web', 'ios', 'android', 'api'].includes(e.client)) problems.push('client');
  if (e.timezone !== undefined && !isIanaZone(e.timezone)) problems.push('timezone');
  if (e.country !== undefined && !/^[A-Z]{2}$/.test(e.country)) problems.push('country');
  for (const key of Object.keys(e)) if (!CONTRACT_FIELDS.has(key)) problems.push(`unknown field ${key}`);
  return problems;
}

function take<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length >= n) break;
    out.push(item);
  }
  return out;
}

function cv(values: readonly number[]): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance) / mean;
}

function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

/** CV over consecutive windows of 30 gaps, the median window: what a detector sees in a rolling window. */
function rollingCv(times: readonly number[]): number {
  const all = gaps(times);
  const windows: number[] = [];
  for (let i = 0; i + 30 <= all.length; i += 30) windows.push(cv(all.slice(i, i + 30)));
  windows.sort((a, b) => a - b);
  return windows[Math.floor(windows.length / 2)] as number;
}

describe('Random', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const rng = new Random(seed);
      return Array.from({ length: 50 }, () => rng.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('keeps every helper inside its range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: -50, max: 50 }), fc.nat(100), (seed, min, span) => {
        const rng = new Random(seed);
        const n = rng.int(min, min + span);
        const u = rng.uniform(min, min + span + 1);
        expect(Number.isInteger(n) && n >= min && n <= min + span).toBe(true);
        expect(u >= min && u < min + span + 1).toBe(true);
        expect(rng.exponential(10)).toBeGreaterThanOrEqual(0);
        expect(rng.poisson(3)).toBeGreaterThanOrEqual(0);
        expect(rng.hex(16)).toMatch(/^[0-9a-f]{16}$/);
      }),
    );
  });
});

describe('simulate: population', () => {
  it('apportions the mix exactly, largest remainder first', () => {
    const counts = apportion(1000, DEFAULT_MIX);
    expect(Object.values(counts).reduce((s, n) => s + n, 0)).toBe(1000);
    expect(counts.casual).toBe(450);
    expect(apportion(7, { casual: 1, automation: 1 })).toMatchObject({ casual: 4, automation: 3, scraper: 0 });
  });

  it('creates every persona with the counts the mix asks for, labelled abusive or not', () => {
    const mix = Object.fromEntries(PERSONA_NAMES.map((name) => [name, 1])) as Record<PersonaName, number>;
    const labels = labelsFor({ accounts: 120, days: 1, mix });
    expect(labels).toHaveLength(120);
    for (const name of PERSONA_NAMES) {
      const members = labels.filter((l) => l.persona === name);
      expect(members, name).toHaveLength(10);
      expect(members.every((l) => l.abusive === (ABUSIVE_PERSONAS as readonly string[]).includes(name))).toBe(true);
    }
    expect(new Set(labels.map((l) => l.accountId)).size).toBe(120);
    expect(labels.every((l) => /^acc-\d{6}$/.test(l.accountId))).toBe(true);
  });

  it('defaults to a population of about 85 % humans', () => {
    const labels = labelsFor({ accounts: 2000, days: 1 });
    const humans = labels.filter((l) => !l.abusive).length / labels.length;
    expect(humans).toBeCloseTo(0.85, 2);
  });

  it('rejects invalid options', () => {
    expect(() => simulate({ accounts: 0, days: 1 })).toThrow();
    expect(() => simulate({ accounts: 10, days: 1, mix: { casual: 0 } })).toThrow();
    expect(() => simulate({ accounts: 10, days: 1, start: 'yesterday' })).toThrow();
  });
});

describe('simulate: determinism', () => {
  const run = (seed: number) => take(simulateEvents({ accounts: 150, days: 1, seed }), 20_000);

  it('replays identically from the same seed, including labels', () => {
    expect(run(9)).toEqual(run(9));
    expect(labelsFor({ accounts: 150, days: 1, seed: 9 })).toEqual(labelsFor({ accounts: 150, days: 1, seed: 9 }));
  }, 30_000);

  it('differs with another seed', () => {
    expect(run(9)).not.toEqual(run(10));
  }, 30_000);

  it('gives the same events on every iteration of one simulation', () => {
    const sim = simulate({ accounts: 60, days: 1, seed: 4 });
    expect(take(sim.events, 5_000)).toEqual(take(sim.events, 5_000));
  });
});

describe('simulate: event stream', () => {
  it('emits events that satisfy the contract, with complete lifecycles', () => {
    const byRequest = new Map<string, SimulatedEvent[]>();
    const problems: string[] = [];
    for (const event of simulateEvents({ accounts: 200, days: 1, seed: 2, duplicateFraction: 0 })) {
      for (const problem of contractProblems(event)) problems.push(`${problem}: ${JSON.stringify(event)}`);
      const lifecycle = byRequest.get(event.requestId) ?? [];
      lifecycle.push(event);
      byRequest.set(event.requestId, lifecycle);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(byRequest.size).toBeGreaterThan(10_000);
    for (const lifecycle of byRequest.values()) {
      const types = lifecycle.map((e) => e.type);
      const requested = lifecycle.filter((e) => e.type === 'generation.requested');
      const started = lifecycle.filter((e) => e.type === 'generation.started');
      const finished = lifecycle.filter((e) => e.type === 'generation.completed' || e.type === 'generation.failed');
      if (requested.length !== 1 || started.length > 1 || finished.length !== 1) problems.push(types.join());
      const took = Date.parse(finished[0]?.occurredAt ?? '') - Date.parse(requested[0]?.occurredAt ?? '');
      // Rejected before starting: within 3 s. Otherwise 5 s (fast image) to 5 min (relaxed video).
      const expected = started.length === 0 ? took <= 3_000 : took >= 5_000 && took <= 300_000;
      if (!expected) problems.push(`${types.join()} took ${took} ms`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  }, 60_000);

  it('is in time order except injected late events, which are at most 3 minutes late', () => {
    const check = (lateFraction: number) => {
      let latest = -Infinity;
      let late = 0;
      let events = 0;
      for (const event of simulateEvents({ accounts: 300, days: 1, seed: 5, lateFraction, duplicateFraction: 0 })) {
        const ts = Date.parse(event.occurredAt);
        if (ts < latest) {
          late++;
          expect(latest - ts).toBeLessThanOrEqual(MAX_LATENESS_MS);
        }
        latest = Math.max(latest, ts);
        events++;
      }
      return { late, events };
    };
    expect(check(0).late).toBe(0);
    const { late, events } = check(0.01);
    expect(late).toBeGreaterThan(events * 0.003);
    expect(late).toBeLessThan(events * 0.012); // ≤ late events: one trailing by a few ms may overtake nothing
  }, 60_000);

  it('re-delivers some events as exact copies of an earlier one', () => {
    const seen = new Map<string, SimulatedEvent>();
    let duplicates = 0;
    let events = 0;
    for (const event of simulateEvents({ accounts: 300, days: 1, seed: 6, duplicateFraction: 0.01 })) {
      const original = seen.get(event.eventId);
      if (original) {
        duplicates++;
        expect(event).toEqual(original);
        expect(event).not.toBe(original);
      } else {
        seen.set(event.eventId, event);
      }
      events++;
    }
    expect(duplicates / events).toBeGreaterThan(0.007);
    expect(duplicates / events).toBeLessThan(0.013);
  }, 60_000);

  it('streams 2,000 accounts × 1 day without holding the events in memory', () => {
    // Heap in use counts garbage not yet collected; only a full collection shows what the stream retains.
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const retained = () => {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    const baseline = retained();
    let peak = 0;
    let events = 0;
    for (const event of simulateEvents({ accounts: 2_000, days: 1, seed: 8 })) {
      if (event.eventId && ++events % 200_000 === 0) peak = Math.max(peak, retained() - baseline);
    }
    expect(events).toBeGreaterThan(500_000);
    // Held in memory, that many events would take several hundred MB.
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);
});

/** What the sanity checks need per account, gathered in one pass over a simulation. */
interface AccountTrace {
  requested: number[];
  maxInFlight: number;
  inFlight: number;
  devicesByDay: Map<number, Set<string>>;
  countries: Set<string>;
  ips: Set<string>;
  devices: Set<string>;
}

/** One pass over a simulation, gathering what the persona checks need per account and per device. */
function trace(options: SimulationOptions) {
  const { labels, events } = simulate(options);
  const personaOf = new Map(labels.map((l) => [l.accountId, l.persona]));
  const traces = new Map<string, AccountTrace>();
  const accountsByDevice = new Map<string, Set<string>>();
  for (const e of events) {
    let account = traces.get(e.accountId);
    if (!account) {
      account = { requested: [], maxInFlight: 0, inFlight: 0, devicesByDay: new Map(), countries: new Set(), ips: new Set(), devices: new Set() };
      traces.set(e.accountId, account);
    }
    if (e.type === 'generation.requested') {
      const ts = Date.parse(e.occurredAt);
      account.requested.push(ts);
      account.maxInFlight = Math.max(account.maxInFlight, ++account.inFlight);
      const day = Math.floor((ts - START) / DAY);
      const devices = account.devicesByDay.get(day) ?? new Set<string>();
      devices.add(e.deviceId ?? 'none');
      account.devicesByDay.set(day, devices);
      account.ips.add(e.ip);
      if (e.country) account.countries.add(e.country);
      if (e.deviceId) {
        account.devices.add(e.deviceId);
        const sharing = accountsByDevice.get(e.deviceId) ?? new Set<string>();
        sharing.add(e.accountId);
        accountsByDevice.set(e.deviceId, sharing);
      }
    } else if (e.type !== 'generation.started') {
      account.inFlight--;
    }
  }
  return { personaOf, traces, accountsByDevice };
}

describe('simulate: personas are what they claim to be', () => {
  const days = 2;
  let traced: ReturnType<typeof trace>;
  beforeAll(() => {
    traced = trace({ accounts: 700, days, seed: 21, lateFraction: 0, duplicateFraction: 0 });
  }, 120_000);
  const tracesOf = (persona: PersonaName) =>
    [...traced.traces].filter(([id]) => traced.personaOf.get(id) === persona).map(([, t]) => t);
  const accountsOn = (device: string) => traced.accountsByDevice.get(device)?.size;
  const mostInTwoMinutes = (times: readonly number[]) => {
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] as number) - (times[j] as number) >= 120_000) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  };

  it('runs automation like clockwork, 20+ hours a day', () => {
    const scripts = tracesOf('automation');
    expect(scripts.length).toBeGreaterThan(10);
    for (const trace of scripts) {
      expect(rollingCv(trace.requested)).toBeLessThan(0.1);
      const hours = new Set(trace.requested.filter((t) => t >= START && t < START + DAY).map((t) => Math.floor(t / 3_600_000)));
      expect(hours.size).toBeGreaterThanOrEqual(20);
    }
  });

  it('gives humans irregular gaps (CV > 0.5), bounded concurrency and a single device per account', () => {
    for (const persona of HUMAN_PERSONAS) {
      const humans = tracesOf(persona);
      expect(humans.length, persona).toBeGreaterThan(0);
      for (const trace of humans) {
        if (trace.requested.length >= 20) expect(cv(gaps(trace.requested)), persona).toBeGreaterThan(0.5);
        expect(trace.maxInFlight, persona).toBeLessThanOrEqual(8);
        expect(mostInTwoMinutes(trace.requested), persona).toBeLessThan(20);
        for (const device of trace.devices) expect(accountsOn(device), persona).toBe(1);
      }
    }
  });

  it('keeps power creators to one batch (≤ 4) in flight on ≤ 2 devices', () => {
    for (const trace of tracesOf('power-creator')) {
      expect(trace.maxInFlight).toBeLessThanOrEqual(4);
      expect(trace.devices.size).toBeLessThanOrEqual(2);
    }
  });

  it('bursts scrapers: 30+ requests within two minutes, 8+ in flight', () => {
    for (const trace of tracesOf('scraper')) {
      expect(mostInTwoMinutes(trace.requested)).toBeGreaterThanOrEqual(30);
      expect(trace.maxInFlight).toBeGreaterThanOrEqual(8);
    }
  });

  it('shares credentials across 8+ devices every day and several countries', () => {
    for (const trace of tracesOf('credential-sharing')) {
      for (let day = 0; day < days; day++) expect(trace.devicesByDay.get(day)?.size).toBeGreaterThanOrEqual(8);
      expect(trace.countries.size).toBeGreaterThanOrEqual(3);
    }
  });

  it('runs resellers around the clock for many customers in many countries', () => {
    for (const trace of tracesOf('reseller')) {
      expect(trace.devicesByDay.get(0)?.size).toBeGreaterThanOrEqual(30);
      expect(trace.countries.size).toBeGreaterThanOrEqual(4);
      expect(trace.requested.filter((t) => t >= START && t < START + DAY).length).toBeGreaterThan(1_000);
    }
  });

  it('puts each farm account on a device shared by 20+ accounts', () => {
    const farms = tracesOf('account-farm');
    expect(farms.length).toBeGreaterThanOrEqual(20);
    for (const trace of farms) {
      expect(trace.devices.size).toBe(1);
      const [device] = trace.devices;
      expect(accountsOn(device as string)).toBeGreaterThanOrEqual(20);
    }
  });

  it('moves travellers between countries once or twice, never 3 countries in a day', () => {
    const countries = new Map<string, Set<string>>();
    const countriesByDay = new Map<string, Set<string>>();
    for (const e of simulateEvents({ accounts: 60, days: 3, seed: 21, mix: { traveler: 1 } })) {
      const day = `${e.accountId} ${Math.floor((Date.parse(e.occurredAt) - START) / DAY)}`;
      for (const [key, map] of [[e.accountId, countries], [day, countriesByDay]] as const) {
        map.set(key, (map.get(key) ?? new Set()).add(e.country ?? ''));
      }
    }
    const seen = [...countries.values()].map((set) => set.size);
    // Not every traveller uses the app after moving, so some show only their home country.
    expect(seen.filter((n) => n >= 2).length).toBeGreaterThanOrEqual(0.6 * seen.length);
    expect(Math.max(...seen)).toBeLessThanOrEqual(3);
    expect(Math.max(...[...countriesByDay.values()].map((set) => set.size))).toBeLessThanOrEqual(2);
  }, 30_000);

  it('puts mobile-carrier accounts behind carrier-grade NAT (100.64.0.0/10)', () => {
    for (const trace of tracesOf('mobile-carrier')) {
      for (const ip of trace.ips) {
        const [a, b] = ip.split('.').map(Number);
        expect(a === 100 && (b as number) >= 64 && (b as number) <= 127, ip).toBe(true);
      }
    }
  });
});
