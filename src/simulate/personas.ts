import type { PersonaName } from './labels.js';
import { accountFarm, automation, credentialSharing, reseller, scraper } from './personas/abuse.js';
import type { Persona } from './personas/persona.js';
import { household, mobileCarrier, office, university } from './personas/shared-network.js';
import { casual, powerCreator, traveler } from './personas/solo.js';

export type { Account, Persona, Window } from './personas/persona.js';

/**
 * Every simulated persona. Humans must pass the fair-use checks; abusers must be caught. They are built to be
 * separable on signals a detector can compute per account, device or IP:
 *
 * | signal                        | humans at most                     | abusers                                 |
 * |-------------------------------|------------------------------------|-----------------------------------------|
 * | requests per minute           | ~8 (power-creator batch of 4)      | scraper 30–100 in a minute or two       |
 * | in flight                     | ~4 (power-creator batch)           | scraper 8–20                            |
 * | active hours per day          | ≤ 12 (sleep, days off)             | automation 20–24, reseller 24           |
 * | gap CV                        | ≫ 0.5                              | automation ≈ 0.01                       |
 * | devices / countries per day   | 2 / 2 (traveler)                   | credential-sharing ≥ 8 / 3–6, reseller 40+ |
 * | accounts per device           | 1                                  | account-farm 20–60                      |
 *
 * Accounts per IP alone is deliberately not separable: offices, campuses and carrier NAT put dozens of
 * honest accounts behind one address, just like a farm.
 */
export const PERSONAS: Record<PersonaName, Persona> = {
  casual,
  'power-creator': powerCreator,
  household,
  office,
  university,
  'mobile-carrier': mobileCarrier,
  traveler,
  automation,
  scraper,
  'credential-sharing': credentialSharing,
  reseller,
  'account-farm': accountFarm,
};
