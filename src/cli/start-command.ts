import { loadConfig, type ServiceConfig } from '../config.js';
import { startApi, startService, startWorker, type CloseOptions } from '../service/kirin-service.js';

const printFirstKey = (key: string) => {
  process.stdout.write(`\nNo API key existed, so one was created. It is shown only this once:\n\n  ${key}\n\n`);
};

/** Where the data lives, for the start-up line (no credentials). */
function describeBackends(config: ServiceConfig): string {
  const hidePassword = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:…@');
  const db = config.databaseUrl ? hidePassword(config.databaseUrl) : `${config.dataDir}/kirin.db`;
  const files = config.storage.url || `${config.dataDir}/blobs`;
  const queue = config.queue.redisUrl ? hidePassword(config.queue.redisUrl) : 'the tasks table';
  return `database ${db}, files ${files}, queue ${queue}`;
}

/**
 * SIGINT/SIGTERM: stop taking work, give running analyses KIRIN_SHUTDOWN_GRACE_MS to finish, put
 * the rest back for the next start (logged in one line), then exit. A second signal exits at once.
 */
function stopOnSignals(close: (opts: CloseOptions) => Promise<void>, graceMs: number): void {
  const stop = async () => {
    const now = () => process.exit(1);
    process.once('SIGINT', now);
    process.once('SIGTERM', now);
    await close({ graceMs });
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** `kirin start`: the whole service in one process (embedded defaults), until SIGINT/SIGTERM. */
export async function startCommand(): Promise<void> {
  const config = loadConfig();
  const service = await startService(config, { logger: { level: process.env.LOG_LEVEL ?? 'info' }, onFirstKey: printFirstKey });
  const where = config.databaseUrl || config.storage.url || config.queue.redisUrl ? describeBackends(config) : `data in ${config.dataDir}`;
  process.stdout.write(
    `Kirin Face listening on ${service.url} (${where}, ${config.analysisThreads} analysis threads)\n` +
      `  playground: ${service.publicUrl}/   API docs: ${service.publicUrl}/docs   OpenAPI: ${service.publicUrl}/openapi.json\n` +
      `  callbacks are signed with the secret printed by: npx kirin callback-secret\n`,
  );
  stopOnSignals(service.close, config.shutdownGraceMs);
}

/** `kirin api`: HTTP only, beside `kirin worker` processes on the shared queue. */
export async function apiCommand(): Promise<void> {
  const config = loadConfig();
  const service = await startApi(config, { logger: { level: process.env.LOG_LEVEL ?? 'info' }, onFirstKey: printFirstKey });
  process.stdout.write(`Kirin Face API listening on ${service.url} (${describeBackends(config)})\n`);
  stopOnSignals(service.close, config.shutdownGraceMs);
}

/** `kirin worker`: analyses tasks from the shared queue, KIRIN_WORKERS at a time. */
export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  const worker = await startWorker(config);
  process.stdout.write(`Kirin Face worker ready: ${config.analysisThreads} analyses at a time (${describeBackends(config)})\n`);
  if (!config.publicUrl) process.stderr.write(`kirin worker: KIRIN_PUBLIC_URL is not set; face-picture URLs start with http://localhost:${config.port}\n`);
  stopOnSignals(worker.close, config.shutdownGraceMs);
}
