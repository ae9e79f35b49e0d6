import type { Device } from '../devices.js';
import type { Locale } from '../locales.js';
import { carrierNatIp } from '../network.js';
import type { Presence } from '../sessions.js';
import type { PresenceFor } from './routine.js';

/** Always the same device, address and locale. */
export function fixed(presence: Presence): PresenceFor {
  const where = () => presence;
  return () => where;
}

/**
 * A person's own devices: each session on one of them, usually on the home line; a phone away from home is
 * on mobile data, behind carrier-grade NAT with a fresh address each time.
 */
export function ownDevices(devices: readonly Device[], homeIp: string, locale: Locale): PresenceFor {
  return (rng) => {
    const device = rng.pick(devices);
    const onMobileData = device.client !== 'web' && rng.chance(0.3);
    const presence: Presence = { device, ip: onMobileData ? carrierNatIp(rng) : homeIp, locale };
    return () => presence;
  };
}
