import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';

/** An error with the HTTP status and a stable code to answer with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export function issuesOf(err: z.ZodError): Array<{ path: string; message: string }> {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Validates with a zod schema; failures become 400 with each issue's path and message. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', `invalid ${what}`, issuesOf(parsed.error));
  return parsed.data;
}

/** Query parameters as an object; a parameter given twice is refused rather than silently picked. */
export function queryObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) throw new HttpError(400, 'invalid_request', `query parameter "${key}" given more than once`);
    out[key] = value;
  }
  return out;
}

/**
 * The JSON body of a request: `Content-Type: application/json` (415 otherwise), at most `maxBytes` (413, checked
 * against Content-Length first and then while reading, so a lying or chunked client is cut off too), valid JSON (400).
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!/^application\/json\s*(;\s*charset=utf-8\s*)?$/.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'request body must be JSON: send Content-Type: application/json');
  }
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw new HttpError(413, 'payload_too_large', `request body over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, 'payload_too_large', `request body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${(err as Error).message}`);
  }
}
