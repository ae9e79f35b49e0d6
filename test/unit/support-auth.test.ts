import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenAuthenticator, loadTokens, roleAllows } from '../../src/adapters/http/auth.js';

const SECRET = 'a-very-secret-token-0123456789';
const tokens = [
  { token: SECRET, role: 'agent' as const, actor: 'alice' },
  { token: 'another-secret-token-987654321', role: 'viewer' as const, actor: 'vera' },
];

describe('bearer tokens', () => {
  const auth = new TokenAuthenticator(tokens);

  it('maps a configured token to its actor and role', () => {
    expect(auth.authenticate(`Bearer ${SECRET}`)).toEqual({ actor: 'alice', role: 'agent' });
    expect(auth.authenticate('Bearer another-secret-token-987654321')).toEqual({ actor: 'vera', role: 'viewer' });
  });
  it('refuses missing, unknown, near-miss and malformed credentials', () => {
    for (const header of [undefined, '', 'Bearer', 'Bearer ', `bearer ${SECRET}`, `Basic ${SECRET}`, `Bearer ${SECRET}x`, `Bearer ${SECRET.slice(0, -1)}`, `Bearer ${SECRET} extra`, `Bearer  ${SECRET}`]) {
      expect(auth.authenticate(header), String(header)).toBeUndefined();
    }
  });
  it('orders roles viewer < agent < admin', () => {
    expect(roleAllows('viewer', 'viewer')).toBe(true);
    expect(roleAllows('viewer', 'agent')).toBe(false);
    expect(roleAllows('agent', 'viewer')).toBe(true);
    expect(roleAllows('agent', 'admin')).toBe(false);
    expect(roleAllows('admin', 'agent')).toBe(true);
  });
  it('refuses the same token configured twice', () => {
    expect(() => new TokenAuthenticator([...tokens, { token: SECRET, role: 'admin', actor: 'mallory' }])).toThrow(/configured twice/);
  });
});

describe('loading tokens from the environment', () => {
  it('reads FAIRUSE_API_TOKENS as JSON', () => {
    const auth = loadTokens({ FAIRUSE_API_TOKENS: JSON.stringify(tokens) });
    expect(auth.authenticate(`Bearer ${SECRET}`)?.actor).toBe('alice');
  });
  it('reads FAIRUSE_API_TOKENS_FILE', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tokens-')), 'tokens.json');
    await writeFile(file, JSON.stringify(tokens));
    expect(loadTokens({ FAIRUSE_API_TOKENS_FILE: file }).authenticate(`Bearer ${SECRET}`)?.role).toBe('agent');
  });
  it('fails clearly without tokens, and never quotes a token in its errors', () => {
    expect(() => loadTokens({})).toThrow(/FAIRUSE_API_TOKENS/);
    const bad = [
      JSON.stringify([{ token: SECRET, role: 'root', actor: 'alice' }]),
      JSON.stringify([{ token: 'short', role: 'agent', actor: 'alice' }]),
      JSON.stringify([{ token: SECRET, role: 'agent', actor: 'alice', extra: SECRET }]),
      `[{"token":"${SECRET}"`,
      '[]',
    ];
    for (const text of bad) {
      let message = '';
      try {
        loadTokens({ FAIRUSE_API_TOKENS: text });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, text).toMatch(/FAIRUSE_API_TOKENS/);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain('short');
    }
  });
});
