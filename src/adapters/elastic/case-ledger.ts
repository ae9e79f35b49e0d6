import { isDeepStrictEqual } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { Command, Strike, Transition } from '../../contract/outputs.js';
import { EnforcementError } from '../../engine/enforcement.js';
import { Standings } from '../../engine/standings.js';
import type { EnforcementPolicy } from '../../policy/schema.js';
import { DEFAULT_BACKOFF, sendBulk, withRetry, type Backoff, type BulkOp } from './bulk.js';
import { caseDoc, caseFileOf, type CaseDoc, type CaseFile } from './case-doc.js';
import type { IndexNames } from './indexes.js';

/** What moves a case: an enforced strike from detection, or a support command. */
export type CaseInput = { kind: 'strike'; strike: Strike } | { kind: 'command'; command: Command };

/** What a command did to its case. */
export type CommandEffect =
  | { outcome: 'applied'; transition?: Transition; case: CaseDoc }
  | { outcome: 'duplicate'; case: CaseDoc }
  | { outcome: 'refused'; error: string; case?: CaseDoc };

export interface LedgerStats {
  accounts: number;
  /** Case documents created or changed. */
  written: number;
  /** Accounts whose inputs were all applied before (a replay). */
  unchanged: number;
  /** Writes that lost an optimistic-concurrency race and were redone on the fresh document. */
  conflicts: number;
  commandsRefused: number;
  /** Transitions these inputs caused. */
  newTransitions: number;
  /**
   * Every transition of every case touched, earlier ones included, for the transitions index: re-indexing them is
   * idempotent, and it repairs the index if a previous run stopped between writing a case and its transitions.
   */
  timeline: Transition[];
}

interface Stored {
  doc: CaseDoc;
  seqNo: number;
  primaryTerm: number;
}

const ACCOUNTS_PER_ROUND = 500;

const inputTime = (i: CaseInput) => Date.parse(i.kind === 'strike' ? i.strike.at : i.command.at);

/**
 * The cases index as the state of record for enforcement: loads case documents, moves them with the engine's own
 * Standings (nothing of the state machine is reimplemented here) and writes them back with if_seq_no /
 * if_primary_term, redoing an account from its fresh document whenever another writer got there first.
 */
export class CaseLedger {
  private readonly backoff: Backoff;

  constructor(
    private readonly client: Client,
    private readonly names: IndexNames,
    private readonly policy: EnforcementPolicy,
    private readonly opts: { backoff?: Backoff; logger?: Logger } = {},
  ) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  async get(accountId: string): Promise<Stored | undefined> {
    return (await this.load([accountId])).get(accountId);
  }

  /**
   * Applies strikes and commands per account in time order (a command before a strike at the same instant, as the
   * embedded run does). Shadow strikes are not enforcement and are ignored. Refused commands are counted, not thrown.
   */
  async apply(inputs: readonly CaseInput[]): Promise<LedgerStats> {
    const byAccount = new Map<string, CaseInput[]>();
    for (const input of inputs) {
      if (input.kind === 'strike' && input.strike.mode !== 'enforce') continue;
      const id = input.kind === 'strike' ? input.strike.accountId : input.command.accountId;
      let list = byAccount.get(id);
      if (!list) byAccount.set(id, (list = []));
      list.push(input);
    }
    for (const list of byAccount.values()) list.sort((a, b) => inputTime(a) - inputTime(b) || (a.kind === 'command' ? -1 : 0) - (b.kind === 'command' ? -1 : 0));

    const stats: LedgerStats = { accounts: byAccount.size, written: 0, unchanged: 0, conflicts: 0, commandsRefused: 0, newTransitions: 0, timeline: [] };
    const ids = [...byAccount.keys()];
    for (let i = 0; i < ids.length; i += ACCOUNTS_PER_ROUND) {
      const round = await this.update(ids.slice(i, i + ACCOUNTS_PER_ROUND), (standings, accountId) => {
        const out = collector();
        let refused = 0;
        for (const input of byAccount.get(accountId)!) {
          if (input.kind === 'strike') {
            standings.applyStrike(input.strike, out);
            continue;
          }
          try {
            standings.applyCommand(input.command, out); // a replayed command (same commandId) changes nothing
          } catch (err) {
            if (!(err instanceof EnforcementError)) throw err;
            refused++;
            this.opts.logger?.warn({ accountId, commandId: input.command.commandId, err: err.message }, 'command refused');
          }
        }
        return { transitions: out.transitions, refused };
      });
      stats.conflicts += round.conflicts;
      for (const r of round.results.values()) {
        if (r.written) stats.written++;
        else stats.unchanged++;
        stats.commandsRefused += r.value.refused;
        stats.newTransitions += r.value.transitions.length;
        stats.timeline.push(...(r.doc?.transitions ?? []));
      }
    }
    return stats;
  }

  /** Applies one support command through the engine; an impossible one is refused and leaves the case untouched. */
  async applyCommand(command: Command): Promise<CommandEffect> {
    type Step = { outcome: 'applied'; transition?: Transition } | { outcome: 'duplicate' } | { outcome: 'refused'; error: string };
    const { results } = await this.update([command.accountId], (standings, _accountId, before): Step => {
      // Checked here rather than left to the engine so that a retried request does not even bump updatedAt.
      if (before?.standing.applied.includes(command.commandId)) return { outcome: 'duplicate' };
      try {
        const transition = standings.applyCommand(command, collector());
        return { outcome: 'applied', ...(transition ? { transition } : {}) };
      } catch (err) {
        if (!(err instanceof EnforcementError)) throw err;
        return { outcome: 'refused', error: err.message };
      }
    });
    const { value, doc } = results.get(command.accountId)!;
    if (value.outcome === 'refused') return { ...value, ...(doc ? { case: doc } : {}) };
    if (!doc) throw new Error(`case ${command.accountId} missing after ${command.kind}`);
    return { ...value, case: doc };
  }

  /**
   * Writes a case document computed from the stored one (the points job), only if nobody changed it since;
   * false when it lost that race (the next run picks the case up again).
   */
  async replace(accountId: string, stored: { seqNo: number; primaryTerm: number }, doc: CaseDoc): Promise<boolean> {
    const [outcome] = await withRetry(
      () => sendBulk(this.client, [{ op: 'index', index: this.names.cases, id: accountId, doc, ifSeqNo: stored.seqNo, ifPrimaryTerm: stored.primaryTerm }]),
      { backoff: this.backoff },
    );
    if (outcome?.kind === 'ok') return true;
    if (outcome?.kind === 'conflict') return false;
    throw new Error(`could not write case ${accountId}: ${outcome && 'error' in outcome ? outcome.error : 'no result'}`);
  }

  /**
   * The optimistic-concurrency loop: load the accounts' documents, restore them into a Standings, let `mutate`
   * move each account, write back what changed guarded by seq_no/primary_term, and redo the accounts that conflicted.
   */
  private async update<R>(
    accountIds: readonly string[],
    mutate: (standings: Standings, accountId: string, before: CaseFile | undefined) => R,
  ): Promise<{ results: Map<string, { value: R; doc?: CaseDoc; written: boolean }>; conflicts: number }> {
    const results = new Map<string, { value: R; doc?: CaseDoc; written: boolean }>();
    let pending = [...accountIds];
    let conflicts = 0;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const stored = await this.load(pending);
      const standings = new Standings(this.policy);
      const files = new Map([...stored].map(([id, s]): [string, CaseFile] => [id, caseFileOf(s.doc)]));
      standings.restore({ files: [...files] });
      const values = new Map(pending.map((id) => [id, mutate(standings, id, files.get(id))]));
      const after = new Map(standings.snapshot().files);

      const ops: BulkOp[] = [];
      const docs = new Map<string, CaseDoc>();
      for (const id of pending) {
        const file = after.get(id);
        const prev = stored.get(id);
        if (!file) continue; // a refused command on an account without a case: nothing to store
        if (prev && isDeepStrictEqual(files.get(id), file)) {
          docs.set(id, prev.doc);
          continue;
        }
        const doc = caseDoc(standings.caseOf(id)!, file.standing);
        docs.set(id, doc);
        ops.push(prev ? { op: 'index', index: this.names.cases, id, doc, ifSeqNo: prev.seqNo, ifPrimaryTerm: prev.primaryTerm } : { op: 'create', index: this.names.cases, id, doc });
      }
      const outcomes = await withRetry(() => sendBulk(this.client, ops), {
        backoff: this.backoff,
        onRetry: (err, n, delayMs) => this.opts.logger?.warn({ attempt: n, delayMs, err: (err as Error).message }, 'writing cases failed; retrying'),
      });

      const retry = new Set<string>();
      outcomes.forEach((o, i) => {
        const id = ops[i]!.id;
        if (o.kind === 'conflict' || o.kind === 'exists' || o.kind === 'retry') retry.add(id);
        else if (o.kind === 'rejected') throw new Error(`Elasticsearch refused case ${id}: ${o.error}`);
      });
      const written = new Set(ops.map((o) => o.id));
      for (const id of pending) {
        if (retry.has(id)) continue;
        const doc = docs.get(id);
        results.set(id, { value: values.get(id)!, ...(doc ? { doc } : {}), written: written.has(id) });
      }
      conflicts += retry.size;
      pending = pending.filter((id) => retry.has(id));
      if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 2 ** attempt)));
    }
    return { results, conflicts };
  }

  private async load(accountIds: readonly string[]): Promise<Map<string, Stored>> {
    const res = await withRetry(() => this.client.mget<CaseDoc>({ index: this.names.cases, ids: [...accountIds] }), { backoff: this.backoff });
    const out = new Map<string, Stored>();
    for (const d of res.docs) {
      if ('found' in d && d.found && d._source && d._seq_no !== undefined && d._primary_term !== undefined) {
        out.set(d._id, { doc: d._source, seqNo: d._seq_no, primaryTerm: d._primary_term });
      }
    }
    return out;
  }
}

function collector(): { transitions: Transition[]; transition(t: Transition): void } {
  const transitions: Transition[] = [];
  return { transitions, transition: (t) => transitions.push(t) };
}
