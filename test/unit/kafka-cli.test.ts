import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fairuse } from '../support/cli.js';

/**
 * Flags and config files are validated before any connection is made, so these run without a broker.
 * Usage errors exit 2, configuration errors 1, each with a message naming the problem, never a stack trace.
 */
async function refused(args: string[], message: RegExp | string, code = 1) {
  const r = await fairuse(args);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('fairuse start / produce / export flags', () => {
  it('refuses a missing or malformed broker list', async () => {
    await refused(['start'], 'brokers: Invalid input');
    await refused(['start', '--brokers', 'localhost'], 'brokers.0: expected HOST:PORT');
    await refused(['export', '--brokers', 'h:1,h:70000', '--topic', 'strikes', '--out', '/tmp/x'], 'brokers.1: port must be 1-65535');
    await refused(['produce', '--brokers', '$(reboot):9092', '--input', '-'], 'brokers.0: expected HOST:PORT');
  });

  it('refuses unknown stages, topics and bad numbers', async () => {
    await refused(['start', '--brokers', 'h:1', '--stage', 'everything'], /argument 'everything' is invalid. Allowed choices are detect, fanout, enforce, all/, 2);
    await refused(['export', '--brokers', 'h:1', '--topic', 'checkpoints', '--out', 'x'], /Allowed choices are strikes, shadow-strikes, transitions, quota, cases, dead-letter, account-state/, 2);
    await refused(['export', '--brokers', 'h:1', '--out', 'x'], /required option '-t, --topic <name>'/, 2);
    await refused(['export', '--brokers', 'h:1', '--topic', 'strikes'], /required option '-o, --out <file>'/, 2);
    await refused(['produce', '--brokers', 'h:1'], /required option '-i, --input <file>'/, 2);
    await refused(['start', '--brokers', 'h:1', '--metrics-port', '-1'], /expected a whole number/, 2);
    await refused(['start', '--brokers', 'h:1', '--topic-prefix', 'a/b'], 'topicPrefix: only letters');
  });

  it('refuses missing, malformed and unknown settings in config files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafka-cli-'));
    const file = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    await refused(['start', '--config', join(dir, 'missing.yaml')], /fairuse: ENOENT: no such file or directory/);
    await refused(['start', '--config', dir], /not a regular file/);
    await refused(['start', '--config', await file('bad.yaml', 'brokers: [h:1\n')], /bad\.yaml: not valid YAML or JSON/);
    await refused(['start', '--config', await file('list.yaml', '- h:1\n')], 'expected a mapping of settings');
    await refused(['start', '--config', await file('typo.yaml', 'brokers: [h:1]\nparitions: 3\n')], 'Unrecognized key: "paritions"');
    await refused(['start', '--config', await file('sasl.json', '{"brokers":["h:1"],"sasl":{"mechanism":"plain","username":"u"}}')], 'sasl.password');
    const r = await fairuse(['start', '--brokers', 'h:1', '--config', await file('ok.yaml', 'partitions: many\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('partitions: Invalid input: expected number');
  });
});
