import { loadConfig } from '../config.js';
import { startService } from '../service/kirin-service.js';

/** `kirin start`: the service on embedded defaults, until SIGINT/SIGTERM. */
export async function startCommand(): Promise<void> {
  const config = loadConfig();
  const service = await startService(config, {
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
    onFirstKey: (key) => {
      process.stdout.write(`\nNo API key existed, so one was created. It is shown only this once:\n\n  ${key}\n\n`);
    },
  });
  process.stdout.write(
    `Kirin Face listening on ${service.url} (data in ${config.dataDir}, ${config.workers} analysis workers)\n` +
      `  playground: ${service.publicUrl}/   API docs: ${service.publicUrl}/docs   OpenAPI: ${service.publicUrl}/openapi.json\n` +
      `  callbacks are signed with the secret printed by: npx kirin callback-secret\n`,
  );
  const stop = async () => {
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
