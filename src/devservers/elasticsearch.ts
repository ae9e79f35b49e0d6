/**
 * Single-node Elasticsearch 9 for development and tests, without Docker.
 *
 * Elastic publishes no 9.x distribution to Maven Central (the `integ-test-zip` stops at 8.19), but it does
 * publish the server jar with its dependencies and the `transport-netty4` module (HTTP + transport). `fetch`
 * assembles those into the same layout as a real distribution (`lib/`, `modules/transport-netty4/`) under
 * `.cache/elasticsearch-<version>/`, and a tiny launcher (DevEsNode below) boots a real
 * `org.elasticsearch.node.Node` the way `org.elasticsearch.bootstrap.Elasticsearch` does, minus the
 * production-only parts: the server CLI, bootstrap checks, seccomp filters and the entitlement agent (none of
 * which is on Maven Central). Like the integ-test-zip it has no x-pack and no other modules, so there is no
 * security, and `GET /` (client.info/ping), painless scripts, *_by_query and data streams are unavailable.
 *
 *   tsx src/devservers/elasticsearch.ts fetch   download and assemble only (for CI images / warm caches)
 *   tsx src/devservers/elasticsearch.ts up      start in the background, print ES_URL=http://127.0.0.1:<port>
 *   tsx src/devservers/elasticsearch.ts down    stop the node recorded in .cache/elasticsearch.pid
 *
 * Environment: ES_PORT picks the HTTP port (default: a free one), ES_JAVA_HOME the JDK (21+, default Temurin 25),
 * ES_JAVA_OPTS extra JVM options (after the defaults, e.g. -Xms512m -Xmx512m, so they win).
 * Every start uses `.cache/es-data/<port>` (`data/`, `logs/console.log`), wiped first unless `keepData` is set.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chown, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';

/** Newest 9.x with both `org.elasticsearch:elasticsearch` and `org.elasticsearch.plugin:transport-netty4` on Central (no 9.4.x there). */
export const ES_VERSION = '9.5.3';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const JAVA_HOME = process.env.ES_JAVA_HOME ?? '/usr/lib/jvm/temurin-25-jdk-amd64';
/** Elasticsearch refuses to run as root, so as root we run it as this system user (created on first use). */
const ES_USER = 'fairuse-es';
const LAUNCHER = 'DevEsNode';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, '.cache');
const HOME = join(CACHE, `elasticsearch-${ES_VERSION}`);
const DATA_ROOT = join(CACHE, 'es-data');
const PID_FILE = join(CACHE, 'elasticsearch.pid');

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ElasticsearchOptions {
  /** HTTP port; default `$ES_PORT`, else a free port. */
  port?: number;
  /** Leave the node running after this process exits and record it in `.cache/elasticsearch.pid` (used by `up`). */
  detached?: boolean;
  /** Keep `.cache/es-data/<port>` from a previous run instead of starting empty. */
  keepData?: boolean;
  /** How long to wait for cluster health yellow; default 120 s. */
  readyTimeoutMs?: number;
}

export interface ElasticsearchServer {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  pid: number;
  /** SIGTERM, SIGKILL after 15 s; unless detached or keepData, also deletes the data dir. */
  stop(): Promise<void>;
}

/** Boots a Node from argv `key=value` settings; compiled on first start against the downloaded jars. */
const LAUNCHER_SOURCE = `
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.PluginsLoader;

public final class ${LAUNCHER} {
  public static void main(String[] argv) throws Exception {
    if (Boolean.getBoolean("dev.es.exitOnStdinEof")) {
      // stdin is a pipe from the parent, which the kernel closes however the parent ends (even SIGKILL).
      Thread watcher = new Thread(() -> {
        try {
          while (System.in.read() != -1) {}
        } catch (java.io.IOException e) {}
        System.exit(0);
      }, "dev-es-parent-watch");
      watcher.setDaemon(true);
      watcher.start();
    }
    Settings.Builder builder = Settings.builder();
    for (String arg : argv) builder.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
    Settings settings = builder.build();
    Path configDir = Path.of(settings.get("path.home"), "config");
    // Same order as org.elasticsearch.bootstrap.Elasticsearch: logging must be up before settings are parsed.
    LogConfigurator.registerErrorListener();
    LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(settings));
    LogConfigurator.configure(new Environment(settings, configDir), true);
    Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), configDir, () -> "dev");
    PluginsLoader plugins = PluginsLoader.createPluginsLoader(PluginsLoader.loadModulesBundles(env.modulesDir(), false), Set.of(), Map.of());
    Node node = new Node(env, plugins);
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.prepareForClose();
        node.close();
        node.awaitClose(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        e.printStackTrace();
      } finally {
        closed.countDown();
      }
    }, "dev-es-shutdown"));
    node.start();
    closed.await(); // all Elasticsearch threads are daemons: keep the JVM alive until SIGTERM
  }
}
`;

/** Console-only logging (stdout is redirected to logs/console.log); the real distribution's config needs more files. */
const LOG4J_CONFIG = `status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
`;

/** Downloads and assembles Elasticsearch and its launcher into the cache unless already there; returns its home dir. */
export async function fetchElasticsearch(): Promise<string> {
  if (!existsSync(HOME)) await assemble();
  await compileLauncher(HOME);
  return HOME;
}

async function assemble(): Promise<void> {
  const java = (tool: string) => join(JAVA_HOME, 'bin', tool);
  if (!existsSync(java('javac'))) throw new Error(`no JDK at ${JAVA_HOME}; Elasticsearch ${ES_VERSION} needs Java 21+ (set ES_JAVA_HOME)`);
  // Assemble in a private dir and rename it into place: HOME existing means complete, even if several
  // processes fetch at once or a download is interrupted.
  const tmp = `${HOME}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  try {
    const lib = join(tmp, 'lib');
    const netty = join(tmp, 'modules', 'transport-netty4');
    await copyDependencies(tmp, 'org.elasticsearch', 'elasticsearch', lib);
    await copyDependencies(tmp, 'org.elasticsearch.plugin', 'transport-netty4', netty);
    // The module gets only what the server lacks (netty, ssl-config), as in the distribution: duplicates are jar hell.
    const serverJars = new Set(readdirSync(lib));
    await Promise.all(readdirSync(netty).filter((f) => serverJars.has(f)).map((f) => rm(join(netty, f))));
    // The plugin descriptor and entitlement policy ship inside the module jar; the loader wants them beside it.
    const inJar = 'META-INF/es-plugins/transport-netty4';
    const descriptors = ['plugin-descriptor.properties', 'entitlement-policy.yaml'].map((f) => `${inJar}/${f}`);
    await execFileAsync(java('jar'), ['xf', join(netty, `transport-netty4-${ES_VERSION}.jar`), ...descriptors], { cwd: netty });
    for (const path of descriptors) await rename(join(netty, path), join(netty, basename(path)));
    await rm(join(netty, 'META-INF'), { recursive: true });

    // Native access: ES loads libzstd (needed by best_compression / logsdb indices) from lib/platform/<os>-<arch>.
    // Elastic's own build is not on Maven Central, but the system one has the same ABI. The vector library has no
    // substitute and is switched off at start (-Dorg.elasticsearch.nativeaccess.enableVectorLibrary=false).
    const zstd = systemZstd();
    if (zstd) {
      const platform = join(lib, 'platform', `linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`);
      await mkdir(platform, { recursive: true });
      await symlink(zstd, join(platform, 'libzstd.so'));
    }

    await mkdir(join(tmp, 'config'));
    await writeFile(join(tmp, 'config', 'log4j2.properties'), LOG4J_CONFIG);
    await rename(tmp, HOME);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (existsSync(HOME)) return; // another process won the race
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`could not assemble Elasticsearch ${ES_VERSION} (needs Maven, Maven Central and a JDK 21+): ${String(err)}\n${stdout}${stderr}`);
  }
}

/**
 * Compiles the launcher against the jars once per version of its source (cached by hash, so an edit to
 * LAUNCHER_SOURCE takes effect without re-downloading); returns the class directory.
 */
async function compileLauncher(home: string): Promise<string> {
  const dir = join(home, `launcher-${createHash('sha256').update(LAUNCHER_SOURCE).digest('hex').slice(0, 12)}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.${process.pid}.tmp`;
  const src = join(tmp, `${LAUNCHER}.java`);
  await mkdir(tmp, { recursive: true });
  await writeFile(src, LAUNCHER_SOURCE);
  try {
    await execFileAsync(join(JAVA_HOME, 'bin', 'javac'), ['-d', tmp, '--module-path', join(home, 'lib'), '--add-modules', 'ALL-MODULE-PATH', src]);
  } catch (err) {
    throw new Error(`javac failed on the Elasticsearch launcher: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  await rename(tmp, dir).catch(() => rm(tmp, { recursive: true, force: true })); // lost a race: same result
  return dir;
}

/** `mvn dependency:copy-dependencies` of one artifact's runtime closure into `out`. */
async function copyDependencies(work: string, groupId: string, artifactId: string, out: string): Promise<void> {
  const pom = join(work, `${artifactId}.pom.xml`);
  await mkdir(work, { recursive: true });
  await writeFile(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.devservers</groupId><artifactId>${artifactId}-libs</artifactId><version>0</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${ES_VERSION}</version></dependency>
  </dependencies>
</project>
`,
  );
  await execFileAsync(
    'mvn',
    ['-B', '-q', '-Dstyle.color=never', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${out}`],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  await rm(pom);
}

function systemZstd(): string | undefined {
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [`/usr/lib/${triplet}/libzstd.so.1`, `/lib/${triplet}/libzstd.so.1`, '/usr/lib64/libzstd.so.1'].find((p) => existsSync(p));
}

export async function startElasticsearch(opts: ElasticsearchOptions = {}): Promise<ElasticsearchServer> {
  const home = await fetchElasticsearch();
  const launcher = await compileLauncher(home); // already compiled by fetchElasticsearch: just its path
  const port = opts.port ?? (process.env.ES_PORT ? Number(process.env.ES_PORT) : await freePort());
  const url = `http://127.0.0.1:${port}`;
  const dir = join(DATA_ROOT, String(port));
  await pruneDataDirs();
  if (!opts.keepData) await rm(dir, { recursive: true, force: true });
  const user = esUser();
  if (opts.keepData) await mkdir(dir, { recursive: true }).then(() => writeFile(join(dir, 'keep'), ''));
  for (const sub of ['data', 'logs', 'tmp']) {
    await mkdir(join(dir, sub), { recursive: true });
    if (user) await chown(join(dir, sub), user.uid, user.gid);
  }
  if (user) assertReadableBy(user, join(launcher, `${LAUNCHER}.class`));

  const settings: Record<string, string | number> = {
    'path.home': home,
    'path.data': join(dir, 'data'),
    'path.logs': join(dir, 'logs'),
    'node.name': 'dev',
    'cluster.name': 'fairuse-dev',
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': port,
    'transport.port': await freePort(),
    // A nearly full dev disk would otherwise turn indices read-only or leave shards unassigned.
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    // Lets tests clean up with wildcards (DELETE /test-*).
    'action.destructive_requires_name': 'false',
  };
  const jvm = [
    '-Xms512m',
    '-Xmx512m',
    // Mostly the system options the real server CLI adds (SystemJvmOptions.java).
    '-XX:+UseG1GC',
    '-Xss1m',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:-UsePerfData',
    '-XX:+ExitOnOutOfMemoryError',
    `-XX:ErrorFile=${join(dir, 'logs', 'hs_err_pid%p.log')}`,
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF-8',
    '-Djava.locale.providers=CLDR',
    '-Des.networkaddress.cache.ttl=60',
    '-Des.networkaddress.cache.negative.ttl=10',
    '-Dio.netty.noUnsafe=true',
    '-Dio.netty.noKeySetOptimization=true',
    '-Dio.netty.recycler.maxCapacityPerThread=0',
    '-Dlog4j.shutdownHookEnabled=false',
    '-Dlog4j2.disable.jmx=true',
    '-Dlog4j2.formatMsgNoLookups=true',
    `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
    `-Des.path.home=${home}`,
    '-Dorg.elasticsearch.nativeaccess.enableVectorLibrary=false',
    '--enable-native-access=org.elasticsearch.nativeaccess,org.elasticsearch.foreign,org.apache.lucene.core',
    '--add-modules=jdk.incubator.vector',
    // Test nodes: C1 only halves startup CPU (~4 instead of ~8 CPU-seconds); a long-running `up` node keeps C2.
    ...(opts.detached ? [] : ['-XX:TieredStopAtLevel=1', '-Ddev.es.exitOnStdinEof=true']),
    ...(process.env.ES_JAVA_OPTS ?? '').split(/\s+/).filter(Boolean),
    '--module-path', join(home, 'lib'),
    '--add-modules=ALL-MODULE-PATH',
    '-cp', launcher,
    LAUNCHER,
  ];
  const args = [...jvm, ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)];

  const logFile = join(dir, 'logs', 'console.log');
  const out = openSync(logFile, 'a');
  // Attached nodes get a stdin pipe and exit when it closes, i.e. when this process ends in any way.
  const child = spawn(join(JAVA_HOME, 'bin', 'java'), args, {
    stdio: [opts.detached ? 'ignore' : 'pipe', out, out],
    cwd: join(dir, 'tmp'), // the JVM drops stray files (replay logs) into its cwd; the repo is not writable for ES_USER
    detached: opts.detached ?? false,
    ...(user ?? {}),
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not run ${JAVA_HOME}/bin/java`);
  (child.stdin as unknown as { unref?(): void } | null)?.unref?.(); // the pipe must not keep our event loop alive
  await writeFile(join(dir, 'es.pid'), `${pid}\n`);
  let exited = false;
  child.once('exit', () => (exited = true));

  const stop = async () => {
    await terminate(pid);
    child.stdin?.destroy();
    if (!opts.detached && !opts.keepData) await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  const client = new Client({ node: url, requestTimeout: 5_000, maxRetries: 0 });
  try {
    while (!(await healthy(client))) {
      if (exited || Date.now() > deadline) {
        await terminate(pid);
        const log = await readFile(logFile, 'utf8').catch(() => '');
        throw new Error(`Elasticsearch on ${url} ${exited ? 'exited during startup' : 'did not become ready'}; ${logFile}:\n${log.slice(-4000)}`);
      }
      await sleep(250);
    }
  } finally {
    await client.close();
  }

  if (opts.detached) {
    child.unref();
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
  const running = pid > 0 && isElasticsearch(pid);
  if (running) await terminate(pid);
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
    if (pid > 0 && !isElasticsearch(pid) && !existsSync(join(dir, 'keep'))) await rm(dir, { recursive: true, force: true });
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

/** The jars stay root-owned in the repo, so every parent dir must be searchable by the ES user (not so under /root). */
function assertReadableBy(user: { uid: number; gid: number }, file: string): void {
  try {
    execFileSync('test', ['-r', file], { ...user, stdio: 'ignore' });
  } catch {
    throw new Error(`user ${ES_USER} cannot read ${file}; make the repository's parent directories world-searchable (chmod o+x)`);
  }
}

/** SIGTERM (a clean shutdown takes ~1 s), then SIGKILL if it is still alive after 15 s. */
async function terminate(pid: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(100)) {
    if (!signal(pid, 0)) return;
  }
  signal(pid, 'SIGKILL');
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // ESRCH: already gone
  }
}

/** Guards against acting on a stale pid file whose pid now belongs to some other process. */
function isElasticsearch(pid: number): boolean {
  if (!signal(pid, 0)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(LAUNCHER);
  } catch {
    return true; // no procfs (macOS): trust the pid file
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'fetch':
      console.error(`Elasticsearch ${ES_VERSION} in ${await fetchElasticsearch()}`);
      return;
    case 'up': {
      const pid = readPid(PID_FILE);
      if (pid > 0 && isElasticsearch(pid)) throw new Error(`Elasticsearch is already running (pid ${pid}); run "npm run es:down" first`);
      if (!existsSync(HOME)) console.error(`fetching Elasticsearch ${ES_VERSION} from Maven Central...`);
      // A fixed ES_PORT means the same data dir each time, so keep the indices across restarts.
      const { url } = await startElasticsearch({ detached: true, keepData: Boolean(process.env.ES_PORT) });
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
