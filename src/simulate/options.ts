import { z } from 'zod';
import { PersonaNameSchema, type PersonaName } from './labels.js';

/**
 * A realistic population: ~85 % ordinary people, most of them casual; the rest abuse of the kinds the
 * fair-use policy names. Fractions of accounts.
 */
export const DEFAULT_MIX: Readonly<Record<PersonaName, number>> = {
  casual: 0.45,
  'power-creator': 0.06,
  household: 0.12,
  office: 0.08,
  university: 0.07,
  'mobile-carrier': 0.05,
  traveler: 0.02,
  automation: 0.04,
  scraper: 0.03,
  'credential-sharing': 0.03,
  reseller: 0.01,
  'account-farm': 0.04,
};

export const SimulationOptionsSchema = z.object({
  accounts: z.number().int().positive(),
  days: z.number().int().positive(),
  seed: z.number().int().min(0).max(0xffff_ffff).default(1),
  /** Start of the window: an ISO date (UTC midnight) or date-time with offset. */
  start: z.union([z.iso.date(), z.iso.datetime({ offset: true })]).default('2026-11-02T00:00:00Z'),
  /** Relative weights per persona (normalised); personas left out get no accounts. */
  mix: z
    .partialRecord(PersonaNameSchema, z.number().nonnegative())
    .refine((mix) => Object.values(mix).some((weight) => weight > 0), 'mix needs at least one positive weight')
    .default(DEFAULT_MIX),
  lateFraction: z.number().min(0).max(1).default(0.002),
  duplicateFraction: z.number().min(0).max(1).default(0.001),
});

export type SimulationOptions = z.input<typeof SimulationOptionsSchema>;
export type ResolvedSimulationOptions = z.output<typeof SimulationOptionsSchema>;
