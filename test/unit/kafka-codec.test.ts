import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from '../../src/contract/event.js';
import { Command } from '../../src/contract/outputs.js';
import { accountKeyOf, deadLetterMessage, decodeEvent, decodeRecord, header, HEADER, rawText, sourceOf } from '../../src/adapters/kafka/codec.js';
import { ev } from '../support/events.js';

const valid = () => Buffer.from(JSON.stringify(ev(0).event));

describe('Kafka codec', () => {
  it('decodes a valid event body', () => {
    const r = decodeEvent(valid());
    expect(r.ok && r.value.event.accountId).toBe('acc-1');
  });

  it('sorts bad bodies into the dead-letter reasons without parsing oversized ones', () => {
    expect(decodeEvent(null)).toMatchObject({ ok: false, reason: 'not-json', detail: 'empty message (null value)' });
    expect(decodeEvent(Buffer.from('{"eventId":'))).toMatchObject({ ok: false, reason: 'not-json' });
    expect(decodeEvent(Buffer.from([0xff, 0xfe, 0x00]))).toMatchObject({ ok: false, reason: 'not-json' });
    expect(decodeEvent(Buffer.from('[]'))).toMatchObject({ ok: false, reason: 'schema' });
    expect(decodeEvent(Buffer.from('{"__proto__":{"polluted":true}}'))).toMatchObject({ ok: false, reason: 'schema' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Multi-byte characters: the limit is on bytes, as the broker counts them.
    const big = Buffer.from(JSON.stringify({ ...ev(0).event, userAgent: 'é'.repeat(MAX_EVENT_BYTES / 2) }));
    expect(decodeEvent(big)).toMatchObject({ ok: false, reason: 'oversized', detail: `message of ${big.length} bytes exceeds ${MAX_EVENT_BYTES}` });
  });

  it('quotes at most MAX_EVENT_BYTES of a body in a dead letter', () => {
    expect(rawText(null)).toBe('');
    expect(rawText(Buffer.from('abc'))).toBe('abc');
    expect(Buffer.byteLength(rawText(Buffer.alloc(MAX_EVENT_BYTES * 3, 'a')))).toBe(MAX_EVENT_BYTES);
  });

  it('validates records against their schema', () => {
    expect(decodeRecord(Buffer.from('nope'), Command)).toMatchObject({ ok: false, reason: 'not-json' });
    expect(decodeRecord(null, Command)).toMatchObject({ ok: false, reason: 'not-json' });
    const bad = decodeRecord(Buffer.from(JSON.stringify({ commandId: 'c', kind: 'manual.pause', accountId: 'a', actor: 'x', reason: 'r', at: 'yesterday' })), Command);
    expect(bad).toMatchObject({ ok: false, reason: 'schema' });
    expect(!bad.ok && bad.detail).toContain('at:');
    const extra = decodeRecord(Buffer.from(JSON.stringify({ commandId: 'c', kind: 'manual.pause', accountId: 'a', actor: 'x', reason: 'r', at: '2026-11-02T00:00:00Z', admin: true })), Command);
    expect(extra).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('writes dead letters with the reason in headers and body, cutting long details in the header only', () => {
    const detail = 'd'.repeat(2_000);
    const m = deadLetterMessage(Buffer.from('acc-1'), { reason: 'schema', detail, raw: '{}', source: sourceOf('events', 3, '42') });
    expect(m.headers).toMatchObject({ [HEADER.reason]: 'schema', [HEADER.source]: 'events/3@42' });
    expect(String(m.headers![HEADER.detail]).length).toBe(513);
    expect(JSON.parse(String(m.value))).toEqual({ reason: 'schema', detail, raw: '{}', source: 'events/3@42' });
  });

  it('reads the first value of a header', () => {
    expect(header({ a: [Buffer.from('x'), Buffer.from('y')] }, 'a')).toBe('x');
    expect(header({ a: 'z' }, 'a')).toBe('z');
    expect(header({ a: undefined }, 'a')).toBeUndefined();
    expect(header(undefined, 'a')).toBeUndefined();
  });

  it('finds the accountId key of an NDJSON line, and none for anything else', () => {
    expect(accountKeyOf(JSON.stringify(ev(0).event))).toBe('acc-1');
    for (const line of ['not json', '[]', 'null', '"acc"', '{"accountId":42}', '{"accountId":""}', `{"accountId":"${'a'.repeat(129)}"}`, '{"a":{"accountId":"x"}}']) {
      expect(accountKeyOf(line), line).toBeUndefined();
    }
  });
});
