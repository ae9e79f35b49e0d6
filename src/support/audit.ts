import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** Who asked for a support action. `role` is the API role, or `cli` for operators at a terminal. */
export interface Actor {
  actor: string;
  role: string;
  requestId?: string;
}

/**
 * What became of a write: `applied` changed the case (or, for an export, delivered it), `duplicate` was a retry of one
 * already applied, `refused` was impossible in the account's state, `accepted` was queued (asynchronous gateways),
 * `forbidden` / `invalid` were stopped at the API, `error` failed.
 */
export const AuditOutcome = z.enum(['applied', 'duplicate', 'refused', 'accepted', 'forbidden', 'invalid', 'error']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

/** One line of the append-only audit trail. */
export const AuditEntry = z.object({
  auditId: z.string(),
  at: z.iso.datetime({ offset: true }),
  actor: z.string(),
  role: z.string(),
  requestId: z.string().optional(),
  /** A command kind (appeal.open, manual.suspend, ...) or an API action such as cases.export. */
  action: z.string(),
  accountId: z.string().optional(),
  reason: z.string().optional(),
  outcome: AuditOutcome,
  detail: z.string().optional(),
  commandId: z.string().optional(),
  transitionId: z.string().optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
}

/** Reading the trail back: the support actions on one account, oldest first. */
export interface AuditTrail {
  forAccount(accountId: string, limit: number): Promise<AuditEntry[]>;
}

export function auditEntry(who: Actor, at: number, fields: Omit<AuditEntry, 'auditId' | 'at' | 'actor' | 'role' | 'requestId'>): AuditEntry {
  return {
    auditId: `aud_${randomUUID()}`,
    at: new Date(at).toISOString(),
    actor: who.actor,
    role: who.role,
    ...(who.requestId === undefined ? {} : { requestId: who.requestId }),
    ...fields,
  };
}
