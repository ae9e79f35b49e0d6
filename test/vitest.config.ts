import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    testTimeout: 60_000,
    hookTimeout: 240_000,
    projects: [
      { extends: true, test: { name: 'local', include: ['test/unit/**/*.test.ts', 'test/cli/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Real Kafka and Elasticsearch, started once for the run (or taken from KAFKA_BROKERS / ES_URL).
          globalSetup: ['test/support/servers-global-setup.ts'],
        },
      },
    ],
  },
});
