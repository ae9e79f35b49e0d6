import { Client } from '@elastic/elasticsearch';

/**
 * A client for one Elasticsearch URL. Retries are left to the callers (sink, ledger), which back off and know what
 * is safe to repeat; the timeout bounds how long a hung node (e.g. SIGSTOPped) holds a request.
 */
export function elasticClient(url: string, opts: { requestTimeoutMs?: number } = {}): Client {
  const parsed = new URL(url); // a clear error for a malformed --es before any request
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--es must be an http(s) URL, got "${url}"`);
  return new Client({ node: url, maxRetries: 0, requestTimeout: opts.requestTimeoutMs ?? 10_000 });
}
