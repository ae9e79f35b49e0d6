/** CIDR ranges for IPv4 and IPv6 allow-lists, matched without regexes on the hot path. */

export interface CidrRange {
  readonly v6: boolean;
  /** Network address, as a 32-bit number (v4) or 128-bit bigint (v6). */
  readonly net: number | bigint;
  readonly bits: number;
  readonly text: string;
}

/** Dotted-quad IPv4 to a 32-bit number; a hand-rolled scan because allow-lists are checked on every event. */
export function parseIpv4(ip: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros ("01" is ambiguous: octal in some parsers).
      if (digits > 0 && part === 0) return undefined;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + part;
}

export function parseIpv6(ip: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  // An embedded IPv4 may only form the last 32 bits, so never before "::".
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let n = 0n;
  for (const g of [...head, ...new Array<number>(missing).fill(0), ...tail]) n = (n << 16n) | BigInt(g);
  return n;
}

export function parseCidr(text: string): CidrRange | undefined {
  const [addr, bitsText, extra] = text.split('/');
  if (addr === undefined || extra !== undefined) return undefined;
  const v4 = parseIpv4(addr);
  const max = v4 !== undefined ? 32 : 128;
  const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!(bits >= 0 && bits <= max)) return undefined;
  if (v4 !== undefined) {
    const size = 2 ** (32 - bits);
    return { v6: false, net: Math.floor(v4 / size) * size, bits, text };
  }
  const v6 = parseIpv6(addr);
  if (v6 === undefined) return undefined;
  // A range written in IPv4-mapped form (::ffff:a.b.c.d/96+) is an IPv4 range: clients are matched in IPv4 form.
  if (v6 >> 32n === 0xffffn && bits >= 96) {
    const size = 2 ** (128 - bits);
    return { v6: false, net: Math.floor(Number(v6 & 0xffffffffn) / size) * size, bits: bits - 96, text };
  }
  const shift = BigInt(128 - bits);
  return { v6: true, net: (v6 >> shift) << shift, bits, text };
}

const RECENT_VERDICTS = 4096;

/** A set of ranges answering "is this IP inside any of them?". Malformed IPs are never inside. */
export class CidrSet {
  private readonly v4: Array<{ net: number; size: number }> = [];
  private readonly v6: Array<{ net: bigint; shift: bigint }> = [];
  /** Recent verdicts: the same client IPs recur event after event, and IPv6 parsing is not free. Cleared when full. */
  private readonly recent = new Map<string, boolean>();

  constructor(ranges: readonly CidrRange[]) {
    for (const r of ranges) {
      if (r.v6) this.v6.push({ net: r.net as bigint, shift: BigInt(128 - r.bits) });
      else this.v4.push({ net: r.net as number, size: 2 ** (32 - r.bits) });
    }
  }

  has(ip: string): boolean {
    let verdict = this.recent.get(ip);
    if (verdict === undefined) {
      verdict = this.lookup(ip);
      if (this.recent.size >= RECENT_VERDICTS) this.recent.clear();
      this.recent.set(ip, verdict);
    }
    return verdict;
  }

  private lookup(ip: string): boolean {
    let v4 = ip.includes(':') ? undefined : parseIpv4(ip);
    if (v4 === undefined) {
      const v6 = parseIpv6(ip);
      if (v6 === undefined) return false;
      // IPv4-mapped IPv6 (::ffff:a.b.c.d) is the same client as its IPv4 form.
      if (v6 >> 32n === 0xffffn) v4 = Number(v6 & 0xffffffffn);
      else return this.v6.some((r) => (v6 >> r.shift) << r.shift === r.net);
    }
    const addr = v4;
    return this.v4.some((r) => addr - (addr % r.size) === r.net);
  }
}
