import type { Random } from './random.js';

// First octets of ordinary public IPv4 space (no private, loopback, CGNAT, documentation or multicast blocks).
const ISP_FIRST_OCTETS = [5, 24, 31, 37, 46, 62, 67, 73, 78, 81, 84, 88, 90, 95, 98, 109, 151, 176, 178, 188, 212, 217];
const CLOUD_FIRST_OCTETS = [3, 13, 18, 34, 35, 52, 54, 104, 134, 138, 159, 167];

function octet(rng: Random): number {
  return rng.int(0, 255);
}

function host(rng: Random): number {
  return rng.int(1, 254);
}

/** A home or business broadband address; a share are IPv6, as on real dual-stack lines. */
export function broadbandIp(rng: Random): string {
  if (rng.chance(0.15)) {
    const group = () => rng.hex(4);
    return `2a0${rng.int(0, 9)}:${group()}:${group()}:${group()}:${group()}:${group()}:${group()}:${group()}`;
  }
  return `${rng.pick(ISP_FIRST_OCTETS)}.${octet(rng)}.${octet(rng)}.${host(rng)}`;
}

export function cloudIp(rng: Random): string {
  return `${rng.pick(CLOUD_FIRST_OCTETS)}.${octet(rng)}.${octet(rng)}.${host(rng)}`;
}

/** Carrier-grade NAT (RFC 6598, 100.64.0.0/10): one address is shared by many unrelated subscribers. */
export function carrierNatIp(rng: Random): string {
  return `100.${rng.int(64, 127)}.${octet(rng)}.${host(rng)}`;
}

/** A /24 such as a campus or data-centre range, as its first three octets. */
export function subnet24(rng: Random): string {
  return `${rng.pick(ISP_FIRST_OCTETS)}.${octet(rng)}.${octet(rng)}`;
}

export function addressIn(subnet: string, rng: Random): string {
  return `${subnet}.${host(rng)}`;
}
