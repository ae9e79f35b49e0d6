import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from '../../src/contract/event.js';
import type { Case, DeadLetter, Strike, Transition } from '../../src/contract/outputs.js';
import { writeSimulation } from '../../src/simulate/write.js';
import { fairuse } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { drained, inProcessWorker, readNdjson, testConfig, uniquePrefix } from '../support/kafka-pipeline.js';

/** Rules grouped by device or IP; the others group by account, see one partition's order, and must match to the id. */
const SHARED_RULES = new Set(['farm-shared-device', 'farm-shared-ip']);

describe('Kafka pipeline gives the same answers as the embedded run', () => {
  let dir: string;
  let input: string;
  let brokers: string;
  let lines: number;

  beforeAll(async () => {
    brokers = await kafkaBrokers();
    dir = await mkdtemp(join(tmpdir(), 'kafka-vs-embedded-'));
    const sim = await writeSimulation({
      accounts: 40,
      days: 1,
      seed: 11,
      out: join(dir, 'sim'),
      mix: { casual: 0.4, household: 0.1, office: 0.1, scraper: 0.1, automation: 0.1, 'account-farm': 0.2, 'credential-sharing': 0.1 },
    });
    // Bad lines in the middle of the stream: the pipeline must set them aside and go on.
    const events = (await readFile(sim.path, 'utf8')).split('\n').filter(Boolean);
    const bad = ['{"eventId": broken', JSON.stringify({ eventId: 'x-1', type: 'generation.requested' }), `{"pad":"${'x'.repeat(MAX_EVENT_BYTES)}"}`];
    events.splice(100, 0, bad[0]!);
    events.splice(5_000, 0, bad[1]!);
    events.splice(10_000, 0, bad[2]!);
    lines = events.length;
    input = join(dir, 'events.ndjson');
    await writeFile(input, events.join('\n') + '\n');
  });

  it('flags the same accounts with the same strikes, transitions and dead letters', async () => {
    const embedded = await fairuse(['run', '-i', input, '-o', join(dir, 'embedded')]);
    expect(embedded.code, embedded.stderr).toBe(0);

    const prefix = uniquePrefix('vs-embedded');
    const produced = await fairuse(['produce', '--brokers', brokers, '--topic-prefix', prefix, '--input', input]);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout).toContain(`published ${lines} lines`);

    const config = testConfig(brokers, prefix);
    const worker = await inProcessWorker(config);
    try {
      await drained(brokers, config, 120_000);
    } finally {
      await worker.stop();
    }
    const exported: Record<string, string> = {};
    for (const topic of ['strikes', 'transitions', 'cases', 'dead-letter', 'shadow-strikes']) {
      exported[topic] = join(dir, `kafka-${topic}.ndjson`);
      const r = await fairuse(['export', '--brokers', brokers, '--topic-prefix', prefix, '--topic', topic, '--out', exported[topic]]);
      expect(r.code, r.stderr).toBe(0);
    }

    const read = <T>(file: string) => readNdjson<T>(file);
    const [eStrikes, kStrikes] = [await read<Strike>(join(dir, 'embedded/strikes.ndjson')), await read<Strike>(exported.strikes!)];
    expect(eStrikes.length).toBeGreaterThan(20);
    expect(eStrikes.some((s) => SHARED_RULES.has(s.ruleId))).toBe(true);
    // Per-account rules see each account's events in the same order: identical strikes, ids and all.
    const perAccount = (ss: Strike[]) => ss.filter((s) => !SHARED_RULES.has(s.ruleId)).map((s) => s.strikeId).sort();
    expect(perAccount(kStrikes)).toEqual(perAccount(eStrikes));
    // Device/IP rules see accounts of several partitions interleaved: the same accounts struck on the same keys.
    const shared = (ss: Strike[]) => ss.filter((s) => SHARED_RULES.has(s.ruleId)).map((s) => `${s.ruleId} ${s.accountId} ${s.key.value}`).sort();
    expect(shared(kStrikes)).toEqual(shared(eStrikes));

    const flagged = (cs: Case[]) => cs.filter((c) => c.status !== 'active').map((c) => `${c.accountId} ${c.status}`).sort();
    const eCases = await read<Case>(join(dir, 'embedded/cases.ndjson'));
    expect(flagged(eCases).length).toBeGreaterThan(5);
    expect(flagged(await read<Case>(exported.cases!))).toEqual(flagged(eCases));
    const moves = (ts: Transition[]) => ts.map((t) => `${t.accountId} ${t.from}->${t.to}`).sort();
    expect(moves(await read<Transition>(exported.transitions!))).toEqual(moves(await read<Transition>(join(dir, 'embedded/transitions.ndjson'))));

    const reasons = (ds: DeadLetter[]) => ds.map((d) => d.reason).sort();
    expect(reasons(await read<DeadLetter>(exported['dead-letter']!))).toEqual(reasons(await read<DeadLetter>(join(dir, 'embedded/dead-letter.ndjson'))));
    expect(reasons(await read<DeadLetter>(exported['dead-letter']!))).toEqual(['not-json', 'oversized', 'schema']);
  });
});
