import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidrSet, parseCidr, parseIpv4, parseIpv6 } from '../../src/rules/cidr.js';

const set = (...ranges: string[]): CidrSet =>
  new CidrSet(
    ranges.map((r) => {
      const parsed = parseCidr(r);
      if (!parsed) throw new Error(`test setup: ${r} did not parse`);
      return parsed;
    }),
  );

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const mask4 = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
const inRange4 = (addr: number, net: number, bits: number): boolean => ((addr & mask4(bits)) >>> 0) === ((net & mask4(bits)) >>> 0);

const hex6 = (n: bigint): string => Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
const inRange6 = (addr: bigint, net: bigint, bits: number): boolean => {
  const shift = BigInt(128 - bits);
  return addr >> shift === net >> shift;
};

describe('parseIpv4 / parseIpv6 / parseCidr', () => {
  it('parses IPv4 addresses and rejects malformed ones', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('203.0.113.7')).toBe(((203 * 256 + 0) * 256 + 113) * 256 + 7);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4 ', '1..2.3', 'a.b.c.d', '1.2.3.0x4']) {
      expect(parseIpv4(bad), bad).toBeUndefined();
    }
  });

  it('parses IPv6 forms: full, compressed, upper-case, embedded IPv4', () => {
    expect(parseIpv6('::')).toBe(0n);
    expect(parseIpv6('::1')).toBe(1n);
    expect(parseIpv6('2001:db8::1')).toBe((0x20010db8n << 96n) | 1n);
    expect(parseIpv6('2001:DB8:0:0:0:0:0:1')).toBe((0x20010db8n << 96n) | 1n);
    expect(parseIpv6('::ffff:1.2.3.4')).toBe((0xffffn << 32n) | 0x01020304n);
    expect(parseIpv6('1:2:3:4:5:6:7::')).toBe(0x0001000200030004000500060007_0000n);
    for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::1', ':1::', '1::2:', '::1.2.3', 'fe80::1%eth0']) {
      expect(parseIpv6(bad), bad).toBeUndefined();
    }
  });

  it('rejects an embedded IPv4 anywhere but the last 32 bits', () => {
    for (const bad of ['1.2.3.4::', '1.2.3.4::5', 'ffff:1.2.3.4::', '1.2.3.4::1.2.3.4']) {
      expect(parseIpv6(bad), bad).toBeUndefined();
    }
  });

  it('agrees with node:net isIPv6 on strings built from IPv6-ish pieces', () => {
    const piece = fc.constantFrom('0', '1', 'f', 'ff', 'ffff', 'abcd', '12345', ':', '::', '.', '1.2.3.4', '255', '01');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), (s) => {
        expect(parseIpv6(s) !== undefined, s).toBe(isIPv6(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('accepts every fast-check IPv6 address', () => {
    fc.assert(fc.property(fc.ipV6(), (ip) => parseIpv6(ip) !== undefined));
  });

  it('masks host bits and validates prefix lengths', () => {
    expect(parseCidr('10.1.2.3/8')).toMatchObject({ v6: false, net: 10 * 2 ** 24, bits: 8 });
    expect(parseCidr('10.1.2.3')).toMatchObject({ v6: false, net: parseIpv4('10.1.2.3'), bits: 32 });
    expect(parseCidr('2001:db8::1/32')).toMatchObject({ v6: true, net: 0x20010db8n << 96n, bits: 32 });
    expect(parseCidr('::1')).toMatchObject({ v6: true, net: 1n, bits: 128 });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/8/8', '10.0.0.0/a', '::/129', '300.0.0.0/8', 'nope/8', '']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
});

describe('CidrSet.has', () => {
  it('IPv4 ranges, including /0 and /32 edges', () => {
    const s = set('10.0.0.0/8', '192.0.2.128/25', '203.0.113.7/32');
    expect(s.has('10.0.0.0')).toBe(true);
    expect(s.has('10.255.255.255')).toBe(true);
    expect(s.has('11.0.0.0')).toBe(false);
    expect(s.has('192.0.2.127')).toBe(false);
    expect(s.has('192.0.2.128')).toBe(true);
    expect(s.has('203.0.113.7')).toBe(true);
    expect(s.has('203.0.113.8')).toBe(false);
    expect(set('0.0.0.0/0').has('255.255.255.255')).toBe(true);
    expect(new CidrSet([]).has('1.2.3.4')).toBe(false);
  });

  it('IPv6 ranges; an IPv6 range never matches an IPv4 address and vice versa', () => {
    const s = set('2001:db8::/32');
    expect(s.has('2001:db8:ffff::1')).toBe(true);
    expect(s.has('2001:db9::1')).toBe(false);
    expect(s.has('1.2.3.4')).toBe(false);
    expect(set('1.2.3.0/24').has('::1.2.3.4')).toBe(false); // IPv4-compatible is not IPv4-mapped
    expect(set('::/0').has('2001:db8::1')).toBe(true);
  });

  it('IPv4-mapped IPv6 addresses match IPv4 ranges', () => {
    const s = set('100.64.0.0/10');
    expect(s.has('::ffff:100.64.1.1')).toBe(true);
    expect(s.has('::FFFF:100.127.0.1')).toBe(true);
    expect(s.has('::ffff:6440:101')).toBe(true);
    expect(s.has('::ffff:100.128.0.1')).toBe(false);
  });

  it('a range written in IPv4-mapped form matches the same clients as its IPv4 form', () => {
    const s = set('::ffff:203.0.113.0/120');
    expect(s.has('::ffff:203.0.113.7')).toBe(true);
    expect(s.has('203.0.113.7')).toBe(true);
    expect(s.has('203.0.114.7')).toBe(false);
  });

  it('malformed IPs are never inside, even a catch-all set', () => {
    const all = set('0.0.0.0/0', '::/0');
    for (const bad of ['', 'x', '1.2.3', '256.1.1.1', '01.2.3.4', '1.2.3.4/32', '1::2::3', 'fe80::1%eth0', ':::', '1.2.3.4::', '1.2.3.4::5']) {
      expect(all.has(bad), bad).toBe(false);
    }
  });

  it('property: IPv4 membership agrees with a brute-force bitmask check', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const range = fc.record({ net: u32, bits: fc.integer({ min: 0, max: 32 }) });
    // mode 0: any address; 1: inside the first range; 2: inside it with the last prefix bit flipped (just outside).
    fc.assert(
      fc.property(u32, fc.array(range, { minLength: 1, maxLength: 4 }), fc.constantFrom(0, 1, 2), (addr, ranges, mode) => {
        const { net, bits } = ranges[0]!;
        const inside = ((net & mask4(bits)) | (addr & ~mask4(bits))) >>> 0;
        const ip = mode === 0 ? addr : mode === 1 || bits === 0 ? inside : (inside ^ (1 << (32 - bits))) >>> 0;
        const s = set(...ranges.map((r) => `${dotted(r.net)}/${r.bits}`));
        const expected = ranges.some((r) => inRange4(ip, r.net, r.bits));
        if (mode === 1) expect(expected).toBe(true);
        expect(s.has(dotted(ip))).toBe(expected);
        expect(s.has(`::ffff:${dotted(ip)}`)).toBe(expected);
      }),
      { numRuns: 5_000 },
    );
  });

  it('property: IPv6 membership agrees with a brute-force prefix check', () => {
    const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
    fc.assert(
      fc.property(u128, u128, fc.integer({ min: 0, max: 128 }), fc.constantFrom(0, 1, 2), (addr, net, bits, mode) => {
        const host = (1n << BigInt(128 - bits)) - 1n;
        const inside = (net & ~host & ((1n << 128n) - 1n)) | (addr & host);
        const ip = mode === 0 ? addr : mode === 1 || bits === 0 ? inside : inside ^ (1n << BigInt(128 - bits));
        if (ip >> 32n === 0xffffn) return; // IPv4-mapped addresses are IPv4 clients, covered above
        const expected = inRange6(ip, net, bits);
        if (mode === 1) expect(expected).toBe(true);
        expect(set(`${hex6(net)}/${bits}`).has(hex6(ip))).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });
});
