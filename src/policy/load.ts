import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { Policy } from './schema.js';

export class PolicyError extends Error {
  override name = 'PolicyError';
}

export function parsePolicy(text: string, file = 'policy.yaml'): Policy {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new PolicyError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const result = Policy.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PolicyError(lines.join('\n'));
  }
  return result.data;
}

export async function loadPolicy(file: string): Promise<Policy> {
  return parsePolicy(await readFile(file, 'utf8'), file);
}
