import { loadConfig, type ServiceConfig } from '../config.js';
import { startApi, startService, startWorker } from '../service/kirin-service.js';

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

function stopOnSignals(close: () => Promise<void>): void {
  const stop = async () => {
    await close();
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
    `Kirin Face listening on ${service.url} (${where}, ${config.workers} analysis workers)\n` +
      `  playground: ${service.publicUrl}/   API docs: ${service.publicUrl}/docs   OpenAPI: ${service.publicUrl}/openapi.json\n` +
      `  callbacks are signed with the secret printed by: npx kirin callback-secret\n`,
  );
  stopOnSignals(service.close);
}

/** `kirin api`: HTTP only, beside `kirin worker` processes on the shared queue. */
export async function apiCommand(): Promise<void> {
  const config = loadConfig();
  const service = await startApi(config, { logger: { level: process.env.LOG_LEVEL ?? 'info' }, onFirstKey: printFirstKey });
  process.stdout.write(`Kirin Face API listening on ${service.url} (${describeBackends(config)})\n`);
  stopOnSignals(service.close);
}

/** `kirin worker`: analyses tasks from the shared queue, KIRIN_WORKERS at a time. */
export async function workerCommand(): Promise<void> {
  const config = loadConfig();
  const worker = await startWorker(config);
  process.stdout.write(`Kirin Face worker ready: ${config.workers} analyses at a time (${describeBackends(config)})\n`);
  if (!config.publicUrl) process.stderr.write(`kirin worker: KIRIN_PUBLIC_URL is not set; face-picture URLs start with http://localhost:${config.port}\n`);
  stopOnSignals(worker.close);
}
