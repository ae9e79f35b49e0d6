import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { MAX_PUBLISHED_LINE, produceEvents } from '../../src/adapters/kafka/produce.js';
import { ev } from '../support/events.js';

/** A producer that records what it is sent, acknowledging after a delay, and how many sends overlapped. */
function fakeProducer() {
  const sent: ProducerRecord[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const producer = {
    send: async (record: ProducerRecord) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      sent.push(record);
      inFlight--;
      return [];
    },
  } as unknown as Producer;
  return { producer, sent, messages: () => sent.flatMap((r) => r.messages as Message[]), maxInFlight: () => maxInFlight };
}

describe('produce', () => {
  it('keys events by accountId and publishes bad lines as they are, unkeyed, in input order', async () => {
    const valid = JSON.stringify(ev(0).event);
    const input = [valid, '', 'not json', '   ', '{"accountId": 7}', '["acc-1"]', `${valid}\r`].join('\n');
    const p = fakeProducer();
    const summary = await produceEvents(p.producer, 'events', Readable.from([input]));
    expect(summary).toEqual({ lines: 5, unkeyed: 3, truncated: 0 });
    expect(p.messages().map((m) => [m.key, m.value])).toEqual([
      ['acc-1', valid],
      [null, 'not json'],
      [null, '{"accountId": 7}'],
      [null, '["acc-1"]'],
      ['acc-1', valid],
    ]);
  });

  it('cuts a hostile huge line to the published limit instead of holding it, still oversized for the pipeline', async () => {
    const p = fakeProducer();
    const huge = `{"accountId":"acc-1","pad":"${'x'.repeat(5 * 1024 * 1024)}"}`;
    const summary = await produceEvents(p.producer, 'events', Readable.from([huge, '\n', JSON.stringify(ev(1).event)]));
    expect(summary).toEqual({ lines: 2, unkeyed: 1, truncated: 1 });
    const [cut, next] = p.messages();
    expect(cut!.key).toBeNull();
    expect(Buffer.byteLength(String(cut!.value))).toBe(MAX_PUBLISHED_LINE);
    expect(next!.key).toBe('acc-1');
  });

  it('sends in bounded batches, one at a time: reading waits for each acknowledgement', async () => {
    const p = fakeProducer();
    const lines = Array.from({ length: 2_500 }, (_, i) => JSON.stringify(ev(i, { accountId: `acc-${i % 7}` }).event));
    await produceEvents(p.producer, 'events', Readable.from([lines.join('\n')]), { batchMessages: 1_000 });
    expect(p.sent.map((r) => r.messages.length)).toEqual([1_000, 1_000, 500]);
    expect(p.sent.every((r) => r.acks === -1 && r.topic === 'events')).toBe(true);
    expect(p.maxInFlight()).toBe(1);
  });
});
