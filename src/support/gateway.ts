import { randomUUID } from 'node:crypto';
import { Command, type Case, type CommandKind, type Transition } from '../contract/outputs.js';
import { deterministicId } from '../engine/ids.js';
import type { Actor } from './audit.js';

/** A support action as asked for: by the API, the CLI or a tool. */
export interface CommandRequest {
  kind: CommandKind;
  accountId: string;
  reason: string;
  by: Actor;
  /** Makes a retried request idempotent (the API's Idempotency-Key); without it every request is a new command. */
  idempotencyKey?: string;
}

/**
 * What a gateway did with a command. Synchronous gateways (Elasticsearch) report `applied`, `duplicate` (a retry of
 * a command already applied) or `refused` (impossible in the account's state); asynchronous ones (a Kafka commands
 * topic) report `accepted`.
 */
export type CommandResult =
  | { outcome: 'applied'; command: Command; transition?: Transition; case: Case }
  | { outcome: 'duplicate'; command: Command; case: Case }
  | { outcome: 'refused'; command: Command; error: string; case?: Case }
  | { outcome: 'accepted'; command: Command };

/**
 * Where support commands go. Every implementation runs them through the engine's enforcement state machine and
 * audits them; the Elasticsearch one does it in place, a Kafka one by publishing to the commands topic.
 */
export interface CommandGateway {
  submit(req: CommandRequest): Promise<CommandResult>;
}

/** The contract's Command for a request; throws a ZodError when a field is out of bounds. */
export function commandOf(req: CommandRequest, at: number): Command {
  const commandId =
    req.idempotencyKey === undefined ? `cmd_${randomUUID()}` : deterministicId('cmd', req.accountId, req.kind, req.by.actor, req.idempotencyKey);
  return Command.parse({ commandId, kind: req.kind, accountId: req.accountId, actor: req.by.actor, reason: req.reason, at: new Date(at).toISOString() });
}
