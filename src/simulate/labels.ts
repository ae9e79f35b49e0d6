import { z } from 'zod';
import { MAX_ID_LENGTH } from '../contract/event.js';

/** Human personas: real people whose heavy or unusual use is still fair use; flagging them is a false positive. */
export const HUMAN_PERSONAS = [
  'casual',
  'power-creator',
  'household',
  'office',
  'university',
  'mobile-carrier',
  'traveler',
] as const;

/** Abusive personas: automation and account misuse the fair-use policy exists to stop; missing them is a false negative. */
export const ABUSIVE_PERSONAS = ['automation', 'scraper', 'credential-sharing', 'reseller', 'account-farm'] as const;

export const PERSONA_NAMES = [...HUMAN_PERSONAS, ...ABUSIVE_PERSONAS] as const;

export const PersonaNameSchema = z.enum(PERSONA_NAMES);
export type PersonaName = z.infer<typeof PersonaNameSchema>;

export function isAbusive(persona: PersonaName): boolean {
  return (ABUSIVE_PERSONAS as readonly string[]).includes(persona);
}

/** Ground truth for one simulated account, one line of `labels.ndjson`. */
export const LabelSchema = z.object({
  accountId: z.string().min(1).max(MAX_ID_LENGTH),
  persona: PersonaNameSchema,
  abusive: z.boolean(),
});
export type Label = z.infer<typeof LabelSchema>;

const count = z.number().int().nonnegative();
/** A ratio in [0, 1], or null where its denominator is zero (e.g. precision when nothing was flagged). */
const ratio = z.number().min(0).max(1).nullable();

export const PersonaStatsSchema = z.object({
  persona: PersonaNameSchema,
  abusive: z.boolean(),
  accounts: count,
  flagged: count,
  flaggedRate: ratio,
});
export type PersonaStats = z.infer<typeof PersonaStatsSchema>;

export const EvaluationSchema = z.object({
  accounts: count,
  abusiveAccounts: count,
  flagged: count,
  truePositives: count,
  falsePositives: count,
  falseNegatives: count,
  trueNegatives: count,
  precision: ratio,
  recall: ratio,
  f1: ratio,
  /** Flagged ids with no label: a detector bug or a labels file from another run; left out of the maths. */
  unlabelledFlagged: count,
  personas: z.array(PersonaStatsSchema),
});
export type Evaluation = z.infer<typeof EvaluationSchema>;
