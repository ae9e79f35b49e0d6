/** Process and port helpers shared by the dev servers (Kafka, Elasticsearch). */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // ESRCH: already gone
  }
}

/**
 * A detached server outlives its parent; in containers whose init does not reap orphans it stays a zombie after
 * exiting, which still accepts signal 0.
 */
export function alive(pid: number): boolean {
  if (!signal(pid, 0)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no procfs (macOS)
  }
}

/** SIGTERM (a clean JVM shutdown takes a few seconds), then SIGKILL if it is still alive after 15 s. */
export async function terminate(pid: number): Promise<void> {
  if (pid <= 0 || !signal(pid, 'SIGTERM')) return; // pid 0 would signal our own process group
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(100)) {
    if (!alive(pid)) return;
  }
  signal(pid, 'SIGKILL');
}

/** Guards against acting on a stale pid file whose pid now belongs to some other process. */
export function runs(pid: number, commandLineMarker: string): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(commandLineMarker);
  } catch {
    return true; // no procfs (macOS): trust the pid file
  }
}

/** Binds `port` on 127.0.0.1 and releases it: picks a free port for 0, fails early if a given port is taken. */
export function reservePort(port = 0): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
