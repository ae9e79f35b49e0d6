/**
 * Single-node Elasticsearch 8.19 for development and tests, without Docker.
 *
 * Uses Elastic's official runnable `integ-test-zip` distribution from Maven Central
 * (`org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip`), unzipped into
 * `.cache/elasticsearch-<version>/` and started with its own `bin/elasticsearch` on the system Java 17.
 * The zip carries the server plus the modules `transport-netty4`, `x-pack-core`, `x-pack-security` and `apm`.
 * It does NOT include `reindex` (so no `_delete_by_query`) or `lang-painless` (no scripts), and neither module
 * is published on Maven Central, so code that must run against this node avoids both.
 *
 *   tsx src/devservers/elasticsearch.ts fetch   download and unzip only (for CI images / warm caches)
 *   tsx src/devservers/elasticsearch.ts up      start in the background, print ES_URL=http://127.0.0.1:<port>
 *   tsx src/devservers/elasticsearch.ts down    stop the node recorded in .cache/elasticsearch.pid
 *
 * Environment: ES_PORT picks the HTTP port (default: a free one), ES_JAVA_HOME the JDK (17+, default the
 * system OpenJDK 17), ES_JAVA_OPTS extra JVM options (ES appends them after jvm.options, so they win).
 * Every start uses `.cache/es-data/<port>` (`config/`, `data/`, `logs/`, `tmp/`), wiped first unless `keepData`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chown, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, reservePort, runs, signal, terminate } from './process.js';

/** Newest 8.19.x integ-test-zip on Maven Central (Elastic publishes no 9.x runnable distribution there). */
export const ES_VERSION = '8.19.21';
const ARTIFACT = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip`;
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const JAVA_HOME = process.env.ES_JAVA_HOME ?? '/usr/lib/jvm/java-17-openjdk-amd64';
/** Elasticsearch refuses to run as root, so as root we run it as this system user (created on first use). */
const ES_USER = 'fairuse-es';
/** The server JVM's main class, as opposed to the CLI JVM that `bin/elasticsearch` starts first. */
const SERVER_MAIN = 'org.elasticsearch.bootstrap.Elasticsearch';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, '.cache');
const HOME = join(CACHE, `elasticsearch-${ES_VERSION}`);
const DATA_ROOT = join(CACHE, 'es-data');
const PID_FILE = join(CACHE, 'elasticsearch.pid');

const execFileAsync = promisify(execFile);

export interface ElasticsearchOptions {
  /** HTTP port; default `$ES_PORT`, else a free port. */
  port?: number;
  /** Leave the node running after this process exits and record it in `.cache/elasticsearch.pid` (used by `up`). */
  detached?: boolean;
  /** Keep `.cache/es-data/<port>` from a previous run instead of starting empty. */
  keepData?: boolean;
  /** How long to wait for cluster health yellow; default 120 s. */
  readyTimeoutMs?: number;
  /** Full JIT (C2) even for a node this process owns: for benchmarks, where steady-state speed matters. */
  fullJit?: boolean;
}

export interface ElasticsearchServer {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  /** The server JVM (not the `bin/elasticsearch` CLI in front of it): SIGSTOP/SIGCONT it to simulate an outage. */
  pid: number;
  /** SIGTERM, SIGKILL after 15 s; unless detached or keepData, also deletes the data dir. */
  stop(): Promise<void>;
}

/**
 * Heap and JIT for dev nodes. Without an explicit heap ES takes half the machine's memory. C1-only roughly halves
 * startup CPU for short-lived test nodes; a long-running `up` node keeps C2.
 */
function jvmOptions(fullJit: boolean): string {
  return ['-Xms512m', '-Xmx512m', ...(fullJit ? [] : ['-XX:TieredStopAtLevel=1']), ''].join('\n');
}

/** Downloads and unzips the distribution into the cache unless already there; returns its home dir. */
export async function fetchElasticsearch(): Promise<string> {
  if (existsSync(HOME)) return HOME;
  // Unzip into a private dir and rename it into place: HOME existing means complete, even if several processes
  // fetch at once or a download is interrupted.
  const tmp = `${HOME}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await execFileAsync('mvn', ['-B', '-q', '-Dstyle.color=never', `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${tmp}`], {
      cwd: tmp,
      maxBuffer: 16 * 1024 * 1024,
    });
    const zip = join(tmp, `elasticsearch-${ES_VERSION}.zip`);
    await execFileAsync('unzip', ['-q', zip, '-d', tmp]);
    await rm(zip);
    await rename(join(tmp, `elasticsearch-${ES_VERSION}`), HOME);
  } catch (err) {
    if (existsSync(HOME)) return HOME; // another process won the race
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`could not fetch Elasticsearch ${ES_VERSION} (needs Maven, unzip and Maven Central): ${String(err)}\n${stdout}${stderr}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return HOME;
}

export async function startElasticsearch(opts: ElasticsearchOptions = {}): Promise<ElasticsearchServer> {
  const home = await fetchElasticsearch();
  if (!existsSync(join(JAVA_HOME, 'bin', 'java'))) throw new Error(`no JDK at ${JAVA_HOME}; Elasticsearch ${ES_VERSION} needs Java 17+ (set ES_JAVA_HOME)`);
  const port = opts.port ?? (process.env.ES_PORT ? Number(process.env.ES_PORT) : await reservePort());
  const url = `http://127.0.0.1:${port}`;
  const dir = join(DATA_ROOT, String(port));
  await pruneDataDirs();
  if (!opts.keepData) await rm(dir, { recursive: true, force: true });
  const user = esUser();
  // Each node gets its own config dir: ES writes its keystore there, and the heap differs per start.
  const config = join(dir, 'config');
  if (!existsSync(config)) await cp(join(home, 'config'), config, { recursive: true });
  await mkdir(join(config, 'jvm.options.d'), { recursive: true });
  await writeFile(join(config, 'jvm.options.d', 'dev.options'), jvmOptions(opts.detached === true || opts.fullJit === true));
  for (const sub of ['data', 'logs', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
  if (user) await chownTree(dir, user);
  if (opts.keepData) await writeFile(join(dir, 'keep'), ''); // exempts the dir from pruneDataDirs
  if (user) assertReadableBy(user, join(home, 'lib', `elasticsearch-${ES_VERSION}.jar`));

  const settings: Record<string, string | number> = {
    'node.name': 'dev',
    'cluster.name': 'fairuse-dev',
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': port,
    'transport.port': await reservePort(),
    'path.data': join(dir, 'data'),
    'path.logs': join(dir, 'logs'),
    // The zip ships x-pack-security, which would otherwise demand TLS and passwords.
    'xpack.security.enabled': 'false',
    // A nearly full dev disk would otherwise turn indices read-only or leave shards unassigned.
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    // Lets tests clean up with wildcards (DELETE /test-*).
    'action.destructive_requires_name': 'false',
  };
  const serverPidFile = join(dir, 'tmp', 'server.pid');
  const args = ['-p', serverPidFile, ...Object.entries(settings).map(([k, v]) => `-E${k}=${v}`)];
  const env: NodeJS.ProcessEnv = { ...process.env, ES_JAVA_HOME: JAVA_HOME, ES_PATH_CONF: config, ES_TMPDIR: join(dir, 'tmp') };
  delete env.JAVA_HOME; // bin/elasticsearch warns about it on every start
  delete env.ES_URL; // a leftover ES_URL is meaningless to the node

  const logFile = join(dir, 'logs', 'console.log');
  const out = await openLog(logFile, user);
  const cli = spawn(join(home, 'bin', 'elasticsearch'), args, {
    stdio: ['ignore', out, out],
    cwd: join(dir, 'tmp'), // the JVM drops stray files (gc.log, replay logs) into its cwd; the repo is not writable for ES_USER
    env,
    detached: opts.detached ?? false,
    ...(user ?? {}),
  });
  closeSync(out);
  const cliPid = cli.pid;
  if (cliPid === undefined) throw new Error(`could not run ${home}/bin/elasticsearch`);
  await writeFile(join(dir, 'es.pid'), `${cliPid}\n`);
  let exited = false;
  cli.once('exit', () => (exited = true));
  // Test nodes must not outlive this process, however it ends (the CLI stops the server JVM on SIGTERM).
  const disarm = opts.detached ? () => {} : watchdog(cliPid, serverPidFile, dir);

  const stop = async () => {
    const serverPid = readPid(serverPidFile);
    if (serverPid > 0) signal(serverPid, 'SIGCONT'); // a SIGSTOPped node cannot shut down
    await terminate(cliPid);
    if (serverPid > 0) await terminate(serverPid);
    disarm();
    if (!opts.detached && !opts.keepData) await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  const client = new Client({ node: url, requestTimeout: 5_000, maxRetries: 0 });
  try {
    while (!(await healthy(client)) || readPid(serverPidFile) === 0) {
      if (exited || Date.now() > deadline) {
        await stop();
        const log = await readFile(logFile, 'utf8').catch(() => '');
        throw new Error(`Elasticsearch on ${url} ${exited ? 'exited during startup' : 'did not become ready'}; ${logFile}:\n${log.slice(-4000)}`);
      }
      await sleep(250);
    }
  } finally {
    await client.close();
  }

  const pid = readPid(serverPidFile);
  if (opts.detached) {
    cli.unref();
    await writeFile(PID_FILE, `${pid}\n`);
  }
  return { url, pid, stop };
}

/** True once cluster health is yellow or green. */
async function healthy(client: Client): Promise<boolean> {
  try {
    const health = await client.cluster.health({ wait_for_status: 'yellow', timeout: '1s' });
    return !health.timed_out;
  } catch {
    return false; // not listening yet, or no master elected yet (503)
  }
}

/** Stops the background node recorded in `.cache/elasticsearch.pid`; false if none was running. */
export async function stopElasticsearch(): Promise<boolean> {
  const pid = readPid(PID_FILE);
  const running = pid > 0 && runs(pid, SERVER_MAIN);
  if (running) {
    // The CLI in front of the server exits right after it; wait for it too so that its data dir can be pruned.
    // Looked up first: the server deletes its pid file on shutdown.
    const dirs = existsSync(DATA_ROOT) ? readdirSync(DATA_ROOT).map((name) => join(DATA_ROOT, name)) : [];
    const cliPids = dirs.filter((dir) => readPid(join(dir, 'tmp', 'server.pid')) === pid).map((dir) => readPid(join(dir, 'es.pid')));
    await terminate(pid);
    for (const cliPid of cliPids) await terminate(cliPid);
  }
  await rm(PID_FILE, { force: true });
  await pruneDataDirs();
  return running;
}

/**
 * Deletes data dirs of nodes that are gone without cleaning up (parent killed, or `up` + `down`), except
 * those marked `keep`. A dir without es.pid belongs to a start in progress (es.pid is written right after spawn).
 */
async function pruneDataDirs(): Promise<void> {
  for (const name of existsSync(DATA_ROOT) ? readdirSync(DATA_ROOT) : []) {
    const dir = join(DATA_ROOT, name);
    const pid = readPid(join(dir, 'es.pid'));
    if (pid > 0 && !alive(pid) && !existsSync(join(dir, 'keep'))) await rm(dir, { recursive: true, force: true });
  }
}

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** uid/gid to run Elasticsearch as when we are root (creating the user if needed); undefined otherwise. */
function esUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, ES_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    // Fails harmlessly if a concurrent start created the user first.
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', ES_USER], { stdio: 'ignore' });
    } catch {}
    return { uid: id('-u'), gid: id('-g') };
  }
}

async function chownTree(dir: string, user: { uid: number; gid: number }): Promise<void> {
  await chown(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, user);
    else await chown(path, user.uid, user.gid);
  }
}

/** The distribution stays root-owned in the repo, so every parent dir must be searchable by the ES user (not so under /root). */
function assertReadableBy(user: { uid: number; gid: number }, file: string): void {
  try {
    execFileSync('test', ['-r', file], { ...user, stdio: 'ignore' });
  } catch {
    throw new Error(`user ${ES_USER} cannot read ${file}; make the repository's parent directories world-searchable (chmod o+x)`);
  }
}

/** The console log is opened by us but must stay appendable by the ES user, which may reopen it. */
async function openLog(file: string, user: { uid: number; gid: number } | undefined): Promise<number> {
  const fd = openSync(file, 'a');
  if (user) await chown(file, user.uid, user.gid);
  return fd;
}

/**
 * Stops the node and deletes its data dir if this process ends without stopping it (plain exit, Ctrl-C, crash,
 * SIGKILL): a tiny shell blocks reading a pipe from us, and the kernel closes that pipe however we end. The CLI
 * gets SIGTERM (it shuts the server down cleanly), the server JVM SIGKILL if it is still there after 15 s.
 * Returns a function that disarms it once the node has been stopped normally.
 */
function watchdog(cliPid: number, serverPidFile: string, dir: string): () => void {
  const script = [
    'read _',
    's=$(cat "$2" 2>/dev/null)',
    '[ -n "$s" ] && kill -CONT "$s" 2>/dev/null',
    'kill -TERM "$1" 2>/dev/null',
    'for i in $(seq 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done',
    'kill -9 "$1" 2>/dev/null; [ -n "$s" ] && kill -9 "$s" 2>/dev/null',
    'sleep 1; rm -rf "$3"',
  ].join('; ');
  const guard = spawn('sh', ['-c', script, 'es-watchdog', String(cliPid), serverPidFile, dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  guard.unref();
  // The pipe must not keep our event loop alive; `unref` exists on the pipe socket but is missing from its type.
  (guard.stdin as unknown as { unref(): void }).unref();
  return () => {
    if (guard.pid !== undefined) signal(guard.pid, 'SIGKILL');
    guard.stdin?.destroy();
  };
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'fetch':
      console.error(`Elasticsearch ${ES_VERSION} in ${await fetchElasticsearch()}`);
      return;
    case 'up': {
      const pid = readPid(PID_FILE);
      if (pid > 0 && runs(pid, SERVER_MAIN)) throw new Error(`Elasticsearch is already running (pid ${pid}); run "npm run es:down" first`);
      if (!existsSync(HOME)) console.error(`fetching Elasticsearch ${ES_VERSION} from Maven Central...`);
      const started = Date.now();
      // A fixed ES_PORT means the same data dir each time, so keep the indices across restarts.
      const { url } = await startElasticsearch({ detached: true, keepData: Boolean(process.env.ES_PORT) });
      console.error(`Elasticsearch ${ES_VERSION} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      console.log(`ES_URL=${url}`);
      return;
    }
    case 'down':
      console.error((await stopElasticsearch()) ? 'Elasticsearch stopped' : 'Elasticsearch was not running');
      return;
    default:
      throw new Error('usage: tsx src/devservers/elasticsearch.ts fetch|up|down');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
