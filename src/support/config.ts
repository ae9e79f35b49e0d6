import { readFile } from 'node:fs/promises';
import cron from 'node-cron';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Duration } from '../time/duration.js';

const Cron = z.string().refine((expr) => cron.validate(expr), { message: 'invalid cron expression (5 or 6 fields, e.g. "0 6 * * *")' });
const Retries = z.number().int().min(0).max(10).default(3);

/**
 * Configuration of `fairuse serve` and its scheduled jobs: a YAML or JSON file (`--config`, or $FAIRUSE_CONFIG),
 * then the environment, then command-line flags, each overriding the one before. Secrets (API tokens) are not
 * configuration: they come only from the environment.
 */
export const SupportConfig = z
  .object({
    elasticsearch: z
      .object({
        url: z.url().optional(),
        indexPrefix: z.string().default('fairuse'),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
        maxBodyBytes: z.number().int().min(256).max(1_048_576).default(16_384),
        maxPageSize: z.number().int().min(1).max(1000).default(100),
        entitlementTtl: Duration.prefault('2s'),
      })
      .strict()
      .prefault({}),
    /** Policy file (enforcement thresholds); default: the packaged rules/policy.yaml. */
    policy: z.string().optional(),
    jobs: z
      .object({
        export: z
          .object({
            cron: Cron,
            status: z.enum(['paused', 'suspended', 'all']).default('all'),
            since: z.string().default('7d'),
            format: z.enum(['csv', 'ndjson']).default('csv'),
            dir: z.string().min(1),
            retries: Retries,
          })
          .strict()
          .optional(),
        recomputePoints: z.object({ cron: Cron, retries: Retries }).strict().optional(),
        deadLetterRetention: z.object({ cron: Cron, olderThan: Duration.prefault('30d'), retries: Retries }).strict().optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type SupportConfig = z.infer<typeof SupportConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the file (if any), applies FAIRUSE_ES_URL, FAIRUSE_INDEX_PREFIX, FAIRUSE_HTTP_HOST, FAIRUSE_HTTP_PORT, validates. */
export async function loadSupportConfig(file = process.env.FAIRUSE_CONFIG, env: NodeJS.ProcessEnv = process.env): Promise<SupportConfig> {
  let raw: Record<string, unknown> = {};
  if (file) {
    const text = await readFile(file, 'utf8');
    try {
      raw = (parseYaml(text) as Record<string, unknown> | null) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: ${(err as Error).message}`);
    }
  }
  const section = (key: string) => ({ ...((raw[key] as Record<string, unknown> | undefined) ?? {}) });
  const es = section('elasticsearch');
  const http = section('http');
  if (env.FAIRUSE_ES_URL) es.url = env.FAIRUSE_ES_URL;
  if (env.FAIRUSE_INDEX_PREFIX) es.indexPrefix = env.FAIRUSE_INDEX_PREFIX;
  if (env.FAIRUSE_HTTP_HOST) http.host = env.FAIRUSE_HTTP_HOST;
  if (env.FAIRUSE_HTTP_PORT) http.port = Number(env.FAIRUSE_HTTP_PORT);
  const parsed = SupportConfig.safeParse({ ...raw, elasticsearch: es, http });
  if (!parsed.success) {
    throw new ConfigError(`${file ?? 'configuration'}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
