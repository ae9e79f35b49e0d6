import type { Client } from '@elastic/elasticsearch';
import type { Transition } from '../../contract/outputs.js';
import { auditEntry, type AuditLog } from '../../support/audit.js';
import { commandOf, type CommandGateway, type CommandRequest, type CommandResult } from '../../support/gateway.js';
import { sendBulk, withRetry } from './bulk.js';
import { caseOf } from './case-doc.js';
import type { CaseLedger } from './case-ledger.js';
import type { IndexNames } from './indexes.js';
import { bulkOpOf } from './records.js';

export interface ElasticGatewayOptions {
  now?: () => number;
  /** Called after a command changed a case (the API drops the account's cached entitlement). */
  onChange?(accountId: string): void;
}

/**
 * Applies support commands to the cases index in place: the ledger loads the case with its standing, moves it with
 * the engine and writes it back under optimistic concurrency; then the transition is indexed and the outcome
 * audited (refusals and failures too).
 */
export class ElasticCommandGateway implements CommandGateway {
  private readonly now: () => number;

  constructor(
    private readonly client: Client,
    private readonly names: IndexNames,
    private readonly ledger: CaseLedger,
    private readonly audit: AuditLog,
    private readonly opts: ElasticGatewayOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async submit(req: CommandRequest): Promise<CommandResult> {
    const at = this.now();
    const command = commandOf(req, at);
    const record = (outcome: 'applied' | 'duplicate' | 'refused' | 'error', extra: { detail?: string; transition?: Transition } = {}) =>
      this.audit.append(
        auditEntry(req.by, at, {
          action: command.kind,
          accountId: command.accountId,
          reason: command.reason,
          outcome,
          commandId: command.commandId,
          ...(extra.detail === undefined ? {} : { detail: extra.detail }),
          ...(extra.transition ? { transitionId: extra.transition.transitionId } : {}),
        }),
      );

    let effect;
    try {
      effect = await this.ledger.applyCommand(command);
      if (effect.outcome === 'applied' && effect.transition) await this.index(effect.transition);
    } catch (err) {
      await record('error', { detail: (err as Error).message }).catch(() => {}); // the original error matters more
      throw err;
    }
    if (effect.outcome === 'refused') {
      await record('refused', { detail: effect.error });
      return { outcome: 'refused', command, error: effect.error, ...(effect.case ? { case: caseOf(effect.case) } : {}) };
    }
    await record(effect.outcome, effect.outcome === 'applied' && effect.transition ? { transition: effect.transition } : {});
    if (effect.outcome === 'applied') this.opts.onChange?.(command.accountId);
    return effect.outcome === 'applied'
      ? { outcome: 'applied', command, ...(effect.transition ? { transition: effect.transition } : {}), case: caseOf(effect.case) }
      : { outcome: 'duplicate', command, case: caseOf(effect.case) };
  }

  private async index(t: Transition): Promise<void> {
    const [o] = await withRetry(() => sendBulk(this.client, [bulkOpOf({ kind: 'transition', value: t }, this.names, this.now())]));
    if (o?.kind === 'rejected' || o?.kind === 'retry') throw new Error(`transition ${t.transitionId} not indexed: ${o.error}`);
  }
}
