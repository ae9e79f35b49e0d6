import type { PersonaName } from './labels.js';
import { accountFarm, automation, credentialSharing, reseller, scraper } from './personas/abuse.js';
import type { Persona } from './personas/persona.js';
import { household, mobileCarrier, office, university } from './personas/shared-network.js';
import { casual, powerCreator, traveler } from './personas/solo.js';

export type { Account, Persona, Window } from './personas/persona.js';

/**
 * Every simulated persona. Humans must pass the fair-use checks; abusers must be caught. They are built to be
 * separable on signals a detector can compute per account, device or IP (ranges measured on 3,000 accounts):
 *
 * | signal                      | humans, at most                       | abusers                                    |
 * |-----------------------------|---------------------------------------|--------------------------------------------|
 * | requests in one minute      | ~10                                   | scraper 45–100                             |
 * | generations in flight       | ~8 (power-creator exactly ≤ 4)        | scraper 15–40                              |
 * | active hours in a day       | ~14 (sleep, days off)                 | automation 20–24, reseller 24              |
 * | gap CV over the period      | > 0.7                                 | automation ≈ 0.01 (median 30-gap window)  |
 * | devices / countries per day | 2 / 2 (traveler)                      | credential-sharing 8–25 / 3–6, reseller 50+ / 8 |
 * | accounts per device         | 1                                     | account-farm 20–60                         |
 *
 * Accounts per IP alone is deliberately not separable: offices, campuses and carrier NAT put dozens of
 * honest accounts behind one address, just like a farm. Volume alone is not either: a power creator makes
 * 300–900 generations a day, more than a scraper.
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
