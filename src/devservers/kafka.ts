/**
 * Single-node Apache Kafka (KRaft, combined broker+controller) for development and tests, without Docker.
 *
 * The broker jars come from Maven Central via `mvn` and are cached in `.cache/kafka-<version>/libs`.
 * Every start gets fresh storage in `.cache/kafka-data/<port>` (config, data, `logs/server.log`, `stdout.log`),
 * unless `keepData` restarts a broker on its earlier data;
 * in-process brokers delete it when they stop, `down` leaves it for inspection until that port is used again.
 *
 *   tsx src/devservers/kafka.ts fetch   download the jars only (for CI images / warm caches)
 *   tsx src/devservers/kafka.ts up      start a background broker, print KAFKA_BROKERS=127.0.0.1:<port>
 *   tsx src/devservers/kafka.ts down    stop the background broker recorded in .cache/kafka.pid
 *
 * Environment: KAFKA_PORT picks the client port (default: a free one), JAVA_HOME picks the JVM (Java 17+).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { reservePort, runs, signal, terminate } from './process.js';

export const KAFKA_VERSION = '4.4.0';
/**
 * Kafka 4 logs through slf4j 1.7 -> log4j2 but ships only log4j-api/log4j-core as Maven runtime dependencies;
 * the slf4j 1.x binding (log4j-slf4j-impl, not log4j-slf4j2-impl) is added by its tarball. Keep in step with
 * the log4j-core version that kafka_2.13 pulls in, or the broker falls back to slf4j's silent NOP logger.
 */
const LOG4J_VERSION = '2.25.5';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, '.cache');
const LIBS = join(CACHE, `kafka-${KAFKA_VERSION}`, 'libs');
const PID_FILE = join(CACHE, 'kafka.pid');

const execFileAsync = promisify(execFile);

export interface KafkaOptions {
  /** Client port; default `$KAFKA_PORT`, else a free port. */
  port?: number;
  /** Leave the broker running after this process exits and record it in `.cache/kafka.pid` (used by `up`). */
  detached?: boolean;
  /** How long to wait for the broker to serve metadata and consumer groups; default 120 s. */
  readyTimeoutMs?: number;
  /**
   * Restart with the data of an earlier broker on the same port that also kept its data (tests of broker restarts):
   * the port's data dir and config are reused if present, and `stop()` leaves them in place.
   */
  keepData?: boolean;
}

export interface KafkaBroker {
  /** Bootstrap address, e.g. `127.0.0.1:41234`. */
  brokers: string;
  pid: number;
  /** SIGTERM, SIGKILL after 15 s; for non-detached brokers also deletes the data dir. */
  stop(): Promise<void>;
}

/** Downloads Kafka and its runtime dependencies into the cache unless already there. */
export async function fetchKafka(): Promise<string> {
  if (existsSync(LIBS)) return LIBS;
  const dir = join(LIBS, '..');
  await mkdir(dir, { recursive: true });
  const pom = join(dir, 'pom.xml');
  await writeFile(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.devservers</groupId><artifactId>kafka-libs</artifactId><version>0</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`,
  );
  // Download into a private dir and rename it into place: `libs` existing means complete, even if
  // several processes fetch at once or a download is interrupted.
  const tmp = `${LIBS}.${process.pid}.tmp`;
  try {
    await execFileAsync(
      'mvn',
      ['-B', '-q', '-Dstyle.color=never', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`mvn could not fetch Kafka ${KAFKA_VERSION} (needs Maven and access to Maven Central):\n${stdout}${stderr}`);
  }
  await rename(tmp, LIBS).catch(() => rm(tmp, { recursive: true, force: true }));
  return LIBS;
}

export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaBroker> {
  const libs = await fetchKafka();
  const port = await reservePort(opts.port ?? Number(process.env.KAFKA_PORT ?? 0));
  const brokers = `127.0.0.1:${port}`;
  const dir = join(CACHE, 'kafka-data', String(port));
  const config = join(dir, 'server.properties');
  const log4j = join(dir, 'log4j2.properties');
  const reuse = opts.keepData === true && existsSync(config);
  if (!reuse) await writeConfig(dir, brokers, config, log4j);

  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const javaArgs = ['-cp', join(libs, '*'), `-Dlog4j2.configurationFile=${log4j}`];
  try {
    if (!reuse) await execFileAsync(java, [...javaArgs, 'kafka.tools.StorageTool', 'format', '-c', config, '-t', clusterId()]);
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`formatting Kafka storage failed (is Java 17+ on PATH or JAVA_HOME?):\n${stdout}${stderr}`);
  }

  // stdout/stderr go to a file so that a detached broker holds no pipe to us; JVM crashes end up there too.
  const out = openSync(join(dir, 'stdout.log'), 'a');
  const child = spawn(java, ['-Xms128m', '-Xmx512m', '-Djava.awt.headless=true', ...javaArgs, 'kafka.Kafka', config], {
    stdio: ['ignore', out, out],
    detached: opts.detached ?? false,
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not run ${java}`);
  let exited = false;
  child.once('exit', () => (exited = true));
  const stopWatchdog = opts.detached ? () => {} : watchdog(pid, dir);
  // Written before waiting, so that `down` also stops a broker whose `up` was interrupted.
  if (opts.detached) await writeFile(PID_FILE, `${pid}\n`);

  const stop = async () => {
    await terminate(pid);
    stopWatchdog();
    if (!opts.detached && !opts.keepData) await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  while (!(await answers(brokers))) {
    if (exited || Date.now() > deadline) {
      await terminate(pid);
      stopWatchdog();
      throw new Error(`Kafka on ${brokers} ${exited ? 'exited during startup' : 'did not become ready'}; see ${dir}/logs/server.log and ${dir}/stdout.log`);
    }
    await sleep(250);
  }

  if (opts.detached) child.unref();
  return { brokers, pid, stop };
}

/** Fresh storage for a port: config files written here, formatted by the caller. */
async function writeConfig(dir: string, brokers: string, config: string, log4j: string): Promise<void> {
  const controllerPort = await reservePort();
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://${brokers},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${brokers}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=4',
      // Topics must be created explicitly, as in production; a typo'd topic name fails instead of appearing.
      'auto.create.topics.enable=false',
      // Internal topics default to replication factor 3, which a single node cannot satisfy.
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      '',
    ].join('\n'),
  );
  await writeFile(
    log4j,
    [
      'appender.file.type=File',
      'appender.file.name=file',
      `appender.file.fileName=${join(dir, 'logs', 'server.log')}`,
      'appender.file.layout.type=PatternLayout',
      'appender.file.layout.pattern=[%d] %p %m (%c)%n',
      'rootLogger.level=info',
      'rootLogger.appenderRef.file.ref=file',
      '',
    ].join('\n'),
  );
}

/** Stops the background broker recorded in `.cache/kafka.pid`; false if none was running. */
export async function stopKafka(): Promise<boolean> {
  const pid = backgroundPid();
  if (pid !== undefined) await terminate(pid);
  await rm(PID_FILE, { force: true });
  return pid !== undefined;
}

/** Pid from `.cache/kafka.pid` if that broker is still running. */
function backgroundPid(): number | undefined {
  const pid = existsSync(PID_FILE) ? Number(readFileSync(PID_FILE, 'utf8').trim()) : 0;
  return pid > 0 && runs(pid, 'kafka.Kafka') ? pid : undefined;
}

/**
 * True once the broker answers metadata requests and its group coordinator works. The first group lookup creates
 * __consumer_offsets; doing that here keeps the first consumer in a test from crashing and retrying noisily.
 */
async function answers(brokers: string): Promise<boolean> {
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    await admin.describeGroups(['devservers-readiness-probe']);
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Kills the JVM and deletes its data dir if this process ends without stopping it (plain exit, Ctrl-C, crash,
 * SIGKILL): a tiny shell blocks reading a pipe from us, and the kernel closes that pipe however we end.
 * Returns a function that disarms it once the broker has been stopped normally.
 */
function watchdog(pid: number, dir: string): () => void {
  const script = 'read _; kill -9 "$1" 2>/dev/null; sleep 1; rm -rf "$2"';
  const guard = spawn('sh', ['-c', script, 'kafka-watchdog', String(pid), dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  guard.unref();
  // The pipe must not keep our event loop alive; `unref` exists on the pipe socket but is missing from its type.
  (guard.stdin as unknown as { unref(): void }).unref();
  return () => {
    if (guard.pid !== undefined) signal(guard.pid, 'SIGKILL');
    guard.stdin?.destroy();
  };
}

/** Kafka cluster ids are 16 random bytes in unpadded base64url; Kafka itself never hands out ids starting with '-'. */
function clusterId(): string {
  const id = randomBytes(16).toString('base64url');
  return id.startsWith('-') ? clusterId() : id;
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'fetch':
      console.error(`Kafka ${KAFKA_VERSION} jars in ${await fetchKafka()}`);
      return;
    case 'up': {
      const pid = backgroundPid();
      if (pid !== undefined) throw new Error(`Kafka is already running (pid ${pid}); run "npm run kafka:down" first`);
      if (!existsSync(LIBS)) console.error(`fetching Kafka ${KAFKA_VERSION} from Maven Central...`);
      const { brokers } = await startKafka({ detached: true });
      console.log(`KAFKA_BROKERS=${brokers}`);
      return;
    }
    case 'down':
      console.error((await stopKafka()) ? 'Kafka stopped' : 'Kafka was not running');
      return;
    default:
      throw new Error('usage: tsx src/devservers/kafka.ts fetch|up|down');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
