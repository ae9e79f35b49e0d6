/**
 * Embedded throughput against the floor of merely reading and JSON.parse-ing the same NDJSON, measured in the same
 * run (alternating rounds, medians), and engine heap per active account with 100k accounts.
 *
 *   npm run bench [-- --accounts 2000 --days 1 --rounds 3 --memory-accounts 100000 --memory-events 3000000 --only throughput|memory]
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_EVENT_BYTES } from '../contract/event.js';
import { validateEvent } from '../contract/parse.js';
import { readLines } from '../adapters/file/lines.js';
import { runEmbedded } from '../embedded/run.js';
import { Deduper } from '../engine/dedupe.js';
import { Pipeline } from '../engine/pipeline.js';
import { loadPolicy } from '../policy/load.js';
import { loadRuleDir } from '../rules/load.js';
import { HUMAN_PERSONAS } from '../simulate/labels.js';
import { DEFAULT_MIX, type SimulationOptions } from '../simulate/options.js';
import { simulateEvents } from '../simulate/simulate.js';
import { writeSimulation } from '../simulate/write.js';
import { DEFAULT_POLICY_FILE, DEFAULT_RULES_DIR } from '../cli/defaults.js';
import { machine, median } from './machine.js';

const { values: args } = parseArgs({
  options: {
    accounts: { type: 'string', default: '2000' },
    days: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    'memory-accounts': { type: 'string', default: '100000' },
    'memory-events': { type: 'string', default: '3000000' },
    only: { type: 'string' },
  },
});

async function floor(file: string): Promise<number> {
  const started = performance.now();
  let lines = 0;
  for await (const batch of readLines(createReadStream(file), MAX_EVENT_BYTES)) {
    for (const line of batch) {
      JSON.parse(line.text);
      lines++;
    }
  }
  return lines / ((performance.now() - started) / 1000);
}

/**
 * The ceiling any rule set can reach on this design: the floor plus only what every event must pay before a rule
 * runs (the contract check with event time, the dedupe window, and one state lookup per grouping key: account,
 * device, IP). No rules, quota, enforcement or outputs. If this alone is under a goal, no rule work can reach it.
 */
async function skeleton(file: string, dedupeHorizon: number): Promise<number> {
  const started = performance.now();
  const dedupe = new Deduper(dedupeHorizon);
  const keys = [new Map<string, { n: number }>(), new Map<string, { n: number }>(), new Map<string, { n: number }>()] as const;
  const touch = (map: Map<string, { n: number }>, key: string | undefined) => {
    if (key === undefined) return;
    const state = map.get(key);
    if (state) state.n++;
    else map.set(key, { n: 1 });
  };
  let lines = 0;
  let newest = 0;
  for await (const batch of readLines(createReadStream(file), MAX_EVENT_BYTES)) {
    for (const line of batch) {
      lines++;
      const parsed = validateEvent(JSON.parse(line.text));
      if (!parsed.ok) continue;
      const { event, ts } = parsed.value;
      if (ts > newest) newest = ts;
      if (dedupe.isDuplicate(event.eventId, newest)) continue;
      touch(keys[0], event.accountId);
      touch(keys[1], event.deviceId);
      touch(keys[2], event.ip);
    }
  }
  return lines / ((performance.now() - started) / 1000);
}

async function throughput(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fairuse-bench-'));
  try {
    const sim = await writeSimulation({ accounts: Number(args.accounts), days: Number(args.days), seed: 42, out: dir });
    const [rules, policy] = await Promise.all([loadRuleDir(DEFAULT_RULES_DIR), loadPolicy(DEFAULT_POLICY_FILE)]);
    const floors: number[] = [];
    const skeletons: number[] = [];
    const engines: number[] = [];
    for (let round = 0; round < Number(args.rounds); round++) {
      floors.push(await floor(sim.path));
      skeletons.push(await skeleton(sim.path, policy.time.dedupeHorizon));
      const summary = await runEmbedded({ input: sim.path, out: join(dir, 'out'), rules, policy });
      engines.push(summary.lines / summary.seconds);
    }
    const f = median(floors);
    const k = median(skeletons);
    const e = median(engines);
    console.log(`\n## Embedded throughput (${sim.events.toLocaleString('en-US')} events, ${sim.accounts} accounts × ${args.days} d, ${args.rounds} rounds, medians)\n`);
    console.log('| measure | events/s | ratio to floor |\n|---|---:|---:|');
    console.log(`| floor: read + JSON.parse | ${Math.round(f).toLocaleString('en-US')} | 1.00 |`);
    console.log(`| ceiling: floor + contract check + dedupe + account/device/IP lookups, no rules | ${Math.round(k).toLocaleString('en-US')} | ${(k / f).toFixed(2)} |`);
    console.log(`| fairuse run (validate, detect, enforce, write outputs) | ${Math.round(e).toLocaleString('en-US')} | ${(e / f).toFixed(2)} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Heap per remembered eventId, measured on its own before anything else is live. */
function measureDedupe(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return 0;
  const ids = 200_000;
  gc();
  const before = process.memoryUsage().heapUsed;
  const dedupe = new Deduper(Number.MAX_SAFE_INTEGER);
  for (let i = 0; i < ids; i++) dedupe.isDuplicate(`e-${(1e12 + i).toString(36)}-${i}`, 1.7e12);
  gc();
  const perId = (process.memoryUsage().heapUsed - before) / dedupe.size;
  console.log(`\ndedupe window: ${Math.round(perId)} B per remembered eventId`);
  return perId;
}

/** Heap per active account for one population mix: the default one, and people only (the bulk of a real platform). */
async function memory(label: string, mix: SimulationOptions['mix']): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('\n(heap per account skipped: run with node --expose-gc, as `npm run bench` does)');
    return;
  }
  const [rules, policy] = await Promise.all([loadRuleDir(DEFAULT_RULES_DIR), loadPolicy(DEFAULT_POLICY_FILE)]);
  const noop = () => {};
  gc();
  const before = process.memoryUsage().heapUsed;
  const pipeline = new Pipeline(rules, policy, { strike: noop, shadowStrike: noop, transition: noop, speed: noop });
  let events = 0;
  const limit = Number(args['memory-events']);
  for (const raw of simulateEvents({ accounts: Number(args['memory-accounts']), days: 1, seed: 7, ...(mix ? { mix } : {}) })) {
    // Through JSON as every event arrives: the simulator builds its ids by concatenation, and those rope strings
    // would be counted at several times the size of the flat strings JSON.parse makes.
    const parsed = validateEvent(JSON.parse(JSON.stringify(raw)));
    if (parsed.ok) pipeline.ingest(parsed.value);
    if (++events >= limit) break;
  }
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  const size = pipeline.detection.stateSize;
  // The dedupe window grows with the event rate, not with accounts: its cost per id is measured apart and subtracted.
  const withoutDedupe = heap - size.dedupe * dedupeBytesPerId;
  const kib = (bytes: number) => `${Math.round(bytes / size.accounts)} B`;
  console.log(`\n### ${label}: ${events.toLocaleString('en-US')} events of a ${args['memory-accounts']}-account population\n`);
  console.log('| active accounts | keys (account / device / ip) | dedupe ids | heap | per active account | per active account without the dedupe window |');
  console.log('|---:|---|---:|---:|---:|---:|');
  console.log(
    `| ${size.accounts.toLocaleString('en-US')} | ${size.keys.accountId ?? 0} / ${size.keys.deviceId ?? 0} / ${size.keys.ip ?? 0} | ${size.dedupe.toLocaleString('en-US')} | ${(heap / 2 ** 20).toFixed(1)} MiB | ${kib(heap)} | ${kib(withoutDedupe)} |`,
  );
}

console.log(`machine: ${machine()}`);
if (args.only !== 'memory') await throughput();
if (args.only === 'throughput') process.exit(0);
console.log('\n## Engine heap per active account');
const dedupeBytesPerId = measureDedupe();
await memory('default mix (15 % abusers)', undefined);
await memory('people only', Object.fromEntries(HUMAN_PERSONAS.map((p) => [p, DEFAULT_MIX[p]])));
