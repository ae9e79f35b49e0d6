import type { Client, estypes } from '@elastic/elasticsearch';

/** The indexes the support side reads and writes; one set per prefix, so environments and tests do not collide. */
export interface IndexNames {
  cases: string;
  strikes: string;
  transitions: string;
  speedDecisions: string;
  audit: string;
  deadLetters: string;
}

export const DEFAULT_INDEX_PREFIX = 'fairuse';
/** Elasticsearch index names are lowercase and must not contain wildcards, commas or path characters. */
const PREFIX = /^[a-z0-9][a-z0-9_-]{0,59}$/;

export function indexNames(prefix = DEFAULT_INDEX_PREFIX): IndexNames {
  if (!PREFIX.test(prefix)) throw new Error(`invalid index prefix "${prefix}": use lowercase letters, digits, - and _ (at most 60)`);
  return {
    cases: `${prefix}-cases`,
    strikes: `${prefix}-strikes`,
    transitions: `${prefix}-transitions`,
    speedDecisions: `${prefix}-speed-decisions`,
    audit: `${prefix}-audit`,
    deadLetters: `${prefix}-dead-letters`,
  };
}

type Mapping = estypes.MappingTypeMapping;
const keyword = { type: 'keyword' } as const;
const date = { type: 'date' } as const;
const integer = { type: 'integer' } as const;
const text = { type: 'text' } as const;
/** Kept in _source for reading back, never searched. */
const stored = { type: 'object', enabled: false } as const;

const strikeProperties = {
  strikeId: keyword,
  ruleId: keyword,
  ruleVersion: keyword,
  mode: keyword,
  severity: keyword,
  points: integer,
  accountId: keyword,
  at: date,
  reason: text,
  tags: keyword,
  key: { properties: { field: keyword, value: keyword } },
  evidence: stored,
} as const;

const transitionProperties = {
  transitionId: keyword,
  accountId: keyword,
  from: keyword,
  to: keyword,
  at: date,
  reason: text,
  actor: keyword,
  strikeIds: keyword,
  commandId: keyword,
} as const;

/** Explicit, strict mappings: a record that does not fit the contract is rejected instead of growing the mapping. */
export const MAPPINGS: Record<keyof IndexNames, Mapping> = {
  cases: {
    dynamic: 'strict',
    properties: {
      caseId: keyword,
      accountId: keyword,
      status: keyword,
      points: integer,
      pointsAsOf: date,
      appeal: { properties: { status: keyword, at: date } },
      openedAt: date,
      updatedAt: date,
      rules: keyword,
      strikeCount: integer,
      firstStrikeAt: date,
      lastStrikeAt: date,
      statusReason: { type: 'text', index: false },
      strikes: stored,
      transitions: stored,
      standing: stored,
    },
  },
  strikes: { dynamic: 'strict', properties: strikeProperties },
  transitions: { dynamic: 'strict', properties: transitionProperties },
  speedDecisions: {
    dynamic: 'strict',
    properties: {
      decisionId: keyword,
      accountId: keyword,
      kind: keyword,
      speed: keyword,
      at: date,
      until: date,
      reason: { type: 'text', index: false },
      tool: keyword,
      model: keyword,
      used: integer,
      limit: integer,
      localDate: keyword,
      timezone: keyword,
      maxConcurrent: integer,
    },
  },
  audit: {
    dynamic: 'strict',
    properties: {
      auditId: keyword,
      at: date,
      actor: keyword,
      role: keyword,
      requestId: keyword,
      action: keyword,
      accountId: keyword,
      reason: text,
      outcome: keyword,
      detail: text,
      commandId: keyword,
      transitionId: keyword,
    },
  },
  deadLetters: {
    dynamic: 'strict',
    properties: {
      deadLetterId: keyword,
      reason: keyword,
      detail: text,
      raw: { type: 'text', index: false },
      source: keyword,
      indexedAt: date,
    },
  },
};

/**
 * Puts one index template per index (exact name, so prefixes never share a template) and creates the indexes that
 * are missing. Safe to run on every start and from several processes at once.
 */
export async function ensureIndexes(client: Client, names: IndexNames): Promise<void> {
  const keys = Object.keys(names) as Array<keyof IndexNames>;
  // In parallel: each index creation waits for a cluster-state update and its shard, about a second apiece.
  await Promise.all(
    keys.map((key) =>
      client.indices.putIndexTemplate({
        name: names[key],
        index_patterns: [names[key]],
        priority: 500,
        template: {
          // One shard is plenty for support volumes; replicas follow the cluster size (0 on a dev node). Audit
          // appends wait for a refresh (read-your-writes on the case page), so that low-volume index refreshes faster.
          settings: { number_of_shards: 1, auto_expand_replicas: '0-1', ...(key === 'audit' ? { refresh_interval: '250ms' } : {}) },
          mappings: MAPPINGS[key],
        },
        _meta: { owner: 'fairuse support' },
      }),
    ),
  );
  await Promise.all(
    keys.map(async (key) => {
      const index = names[key];
      if (await client.indices.exists({ index })) return;
      try {
        await client.indices.create({ index, wait_for_active_shards: 1 });
      } catch (err) {
        if (errorType(err) !== 'resource_already_exists_exception') throw err; // created concurrently
      }
    }),
  );
}

/** Deletes every index of a prefix and its templates (tests and `fairuse index --reset`). */
export async function dropIndexes(client: Client, names: IndexNames): Promise<void> {
  const all = Object.values(names);
  await client.indices.delete({ index: all, ignore_unavailable: true });
  for (const name of all) await client.indices.deleteIndexTemplate({ name }).catch(() => {});
}

/** The `error.type` of an Elasticsearch response error, if it is one. */
export function errorType(err: unknown): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
