import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_EVENT_BYTES } from '../../src/contract/event.js';
import { BundleWriter, decodeBundle, MAX_BUNDLE_BYTES, partitionFor, type Observation } from '../../src/adapters/kafka/repartition.js';

const bundleOf = (observations: readonly Observation[]): Buffer => {
  const w = new BundleWriter();
  for (const o of observations) w.add(o);
  return w.seal();
};

const observation = (overrides: Partial<Observation> = {}): Observation => ({
  field: 'deviceId',
  key: 'd-1',
  partition: 3,
  offset: 41n,
  event: Buffer.from('{"eventId":"e-1"}'),
  ...overrides,
});

const detailOf = (value: Buffer | string | null) => {
  const r = decodeBundle(typeof value === 'string' ? Buffer.from(value) : value);
  return r.ok ? 'ok' : `${r.reason}: ${r.detail}`;
};

describe('repartition bundles', () => {
  it('write observations as length-framed text: readable, with any key and event bytes intact', () => {
    const pretty = Buffer.from('{\n  "eventId": "e-2"\n}');
    const bundle = bundleOf([observation(), observation({ field: 'ip', key: 'a b\nc\té', offset: 12345678901234n, event: pretty })]);
    expect(bundle.toString()).toBe(`fairuse-repartition/1 2\ndeviceId@3:41 3 17\nd-1{"eventId":"e-1"}\nip@3:12345678901234 8 ${pretty.length}\na b\nc\té${pretty}\n`);
    const decoded = decodeBundle(bundle);
    expect(decoded.ok && decoded.observations).toEqual([observation(), observation({ field: 'ip', key: 'a b\nc\té', offset: 12345678901234n, event: pretty })]);
  });

  it('round-trip any observations', () => {
    const arbitrary = fc.record({
      field: fc.stringMatching(/^[A-Za-z]{1,64}$/),
      key: fc.string({ unit: 'grapheme', maxLength: 40 }),
      partition: fc.integer({ min: 0, max: 999_999 }),
      offset: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      event: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.array(arbitrary, { minLength: 1, maxLength: 20 }), (observations) => {
        const decoded = decodeBundle(bundleOf(observations));
        expect(decoded.ok && decoded.observations).toEqual(observations);
      }),
    );
  });

  it('refuse malformed and hostile bodies whole, saying what is wrong', () => {
    const one = bundleOf([observation()]).toString();
    const body = one.slice('fairuse-repartition/1 1\n'.length);
    const cases: Array<[string | Buffer | null, string]> = [
      [null, 'schema: malformed repartition bundle: empty message (null value)'],
      ['', 'schema: malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      ['{"eventId":"e-1"}', 'schema: malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      [Buffer.from([0xff, 0xfe, 0x00, 0x0a]), 'schema: malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      [`fairuse-repartition/1 0\n`, 'schema: malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      [`fairuse-repartition/1 01\n${body}`, 'schema: malformed repartition bundle: expected "fairuse-repartition/1 <count>" on the first line'],
      [`fairuse-repartition/2 1\n${body}`, 'schema: malformed repartition bundle: version 2, this fanout reads version 1'],
      [`fairuse-repartition/1 2\n${body}`, 'schema: malformed repartition bundle: declares 2 observations but holds 1'],
      [`fairuse-repartition/1 1\n${body}${body}`, `schema: malformed repartition bundle: ${body.length} bytes after the 1 observations it declares`],
      [one.slice(0, -5), 'schema: malformed repartition bundle: observation 1 of 1: truncated, 5 bytes missing'],
      [one.replace('"}\n', '"}!'), 'schema: malformed repartition bundle: observation 1 of 1: no newline after its 17 event bytes'],
      [one.replace(' 3 17', ' 3 16'), 'schema: malformed repartition bundle: observation 1 of 1: no newline after its 16 event bytes'],
      [one.replace('@3:41', '@3:041'), 'schema: malformed repartition bundle: observation 1 of 1: expected "<field>@<partition>:<offset> <key bytes> <event bytes>"'],
      [one.replace('@3:41', '@-3:41'), 'schema: malformed repartition bundle: observation 1 of 1: expected "<field>@<partition>:<offset> <key bytes> <event bytes>"'],
      [one.replace('deviceId', 'device id'), 'schema: malformed repartition bundle: observation 1 of 1: expected "<field>@<partition>:<offset> <key bytes> <event bytes>"'],
      [`fairuse-repartition/1 1\n${'x'.repeat(100_000)}`, 'schema: malformed repartition bundle: observation 1 of 1: expected "<field>@<partition>:<offset> <key bytes> <event bytes>"'],
      [`fairuse-repartition/1 1\nip@0:0 0 ${MAX_EVENT_BYTES + 1}\n`, `schema: malformed repartition bundle: observation 1 of 1: longer than an event may be (${MAX_EVENT_BYTES} bytes)`],
      [`fairuse-repartition/1 1\nip@0:0 99999999 1\n`, `schema: malformed repartition bundle: observation 1 of 1: longer than an event may be (${MAX_EVENT_BYTES} bytes)`],
      [Buffer.alloc(MAX_BUNDLE_BYTES + 1, 'a'), `oversized: repartition bundle of ${MAX_BUNDLE_BYTES + 1} bytes exceeds ${MAX_BUNDLE_BYTES}`],
    ];
    for (const [value, expected] of cases) expect(detailOf(value), String(value).slice(0, 60)).toBe(expected);
  });

  it('never throw on damaged bundles: any byte changed, cut or inserted gives observations or a reason', () => {
    const valid = bundleOf([observation(), observation({ field: 'ip', key: '203.0.113.9', offset: 42n })]);
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert'), (at, byte, how) => {
        const damaged =
          how === 'set'
            ? Buffer.concat([valid.subarray(0, at), Buffer.from([byte]), valid.subarray(at + 1)])
            : how === 'cut'
              ? valid.subarray(0, at)
              : Buffer.concat([valid.subarray(0, at), Buffer.from([byte]), valid.subarray(at)]);
        const r = decodeBundle(damaged);
        if (!r.ok) expect(r.detail).toMatch(/^malformed repartition bundle: /);
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), (bytes) => {
        expect(decodeBundle(Buffer.from(bytes)).ok).toBe(false);
      }),
    );
  });
});

describe('repartition partitioner', () => {
  it("routes a key where Kafka's Java client does: murmur2 of its bytes, made positive, modulo the partitions", () => {
    // murmur2 values from Kafka's own Utils tests (clients/src/test/.../UtilsTest.java).
    const murmur2: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of murmur2) {
      for (const partitions of [1, 6, 7, 300]) expect(partitionFor(key, partitions)).toBe((hash & 0x7fffffff) % partitions);
    }
  });
});
