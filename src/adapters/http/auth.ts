import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** API roles, each including the one before: viewer < agent < admin. */
export const Role = z.enum(['viewer', 'agent', 'admin']);
export type Role = z.infer<typeof Role>;
const RANK: Record<Role, number> = { viewer: 1, agent: 2, admin: 3 };

export function roleAllows(role: Role, required: Role): boolean {
  return RANK[role] >= RANK[required];
}

export interface Principal {
  actor: string;
  role: Role;
}

const TokenEntry = z
  .object({
    /** Long random secrets only: a short token is a guessable one. */
    token: z.string().min(24).max(512),
    role: Role,
    actor: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'actor must be a plain name (letters, digits, . _ @ -)'),
  })
  .strict();
const TokenList = z.array(TokenEntry).min(1);

export class TokenConfigError extends Error {
  override name = 'TokenConfigError';
}

/**
 * Tokens from the environment only: $FAIRUSE_API_TOKENS as JSON `[{"token","role","actor"}]`, or a file named by
 * $FAIRUSE_API_TOKENS_FILE holding the same JSON (for secret mounts). Errors never quote a token.
 */
export function loadTokens(env: NodeJS.ProcessEnv = process.env): TokenAuthenticator {
  let text = env.FAIRUSE_API_TOKENS;
  const source = text !== undefined ? 'FAIRUSE_API_TOKENS' : 'FAIRUSE_API_TOKENS_FILE';
  if (text === undefined && env.FAIRUSE_API_TOKENS_FILE) {
    try {
      text = readFileSync(env.FAIRUSE_API_TOKENS_FILE, 'utf8');
    } catch (err) {
      throw new TokenConfigError(`cannot read FAIRUSE_API_TOKENS_FILE: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (text === undefined) throw new TokenConfigError('no API tokens: set FAIRUSE_API_TOKENS or FAIRUSE_API_TOKENS_FILE');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TokenConfigError(`${source} is not valid JSON`);
  }
  const parsed = TokenList.safeParse(json);
  // Issue paths and messages only: zod would otherwise echo the offending value, i.e. the token.
  if (!parsed.success) throw new TokenConfigError(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.code}`).join('; ')}`);
  return new TokenAuthenticator(parsed.data);
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * Checks bearer tokens in constant time: the presented token is hashed (fixing its length) and compared with every
 * configured token's hash with timingSafeEqual, without stopping at the first match.
 */
export class TokenAuthenticator {
  private readonly entries: Array<{ digest: Buffer; principal: Principal }>;

  constructor(entries: ReadonlyArray<{ token: string; role: Role; actor: string }>) {
    const seen = new Set<string>();
    this.entries = entries.map((e) => {
      const d = digest(e.token);
      if (seen.has(d.toString('hex'))) throw new TokenConfigError(`the same token is configured twice (for ${e.actor})`);
      seen.add(d.toString('hex'));
      return { digest: d, principal: { actor: e.actor, role: e.role } };
    });
  }

  /** The principal of an `Authorization: Bearer <token>` header, or undefined. */
  authenticate(header: string | undefined): Principal | undefined {
    const m = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!m) return undefined;
    const presented = digest(m[1]!);
    let found: Principal | undefined;
    for (const e of this.entries) if (timingSafeEqual(presented, e.digest) && !found) found = e.principal;
    return found;
  }
}
