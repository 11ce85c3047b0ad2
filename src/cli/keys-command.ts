import { loadConfig } from '../config.js';
import { loadServiceSecrets } from '../service/secrets.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../storage/api-keys.js';
import { migrate, openDatabase } from '../storage/database.js';
import { KyselyApiKeyRepository } from '../storage/repositories/api-key.repository.js';
import { KyselySecretRepository } from '../storage/repositories/secret.repository.js';

/**
 * `kirin keys create --name N [--owner O] | list | revoke KEY_ID`, against the configured
 * database: KIRIN_DATABASE_URL, else the SQLite file in KIRIN_DATA_DIR (also while the server runs).
 */
export async function keysCommand(args: string[], opts: { name?: string; owner?: string }): Promise<number> {
  const config = loadConfig();
  const db = openDatabase(config);
  try {
    await migrate(db);
    const keys = new KyselyApiKeyRepository(db);
    const [sub, id] = args;
    if (sub === 'create') {
      if (!opts.name) {
        process.stderr.write('keys create needs --name NAME\n');
        return 2;
      }
      const { key, info } = await createApiKey(keys, opts.name, opts.owner ?? opts.name);
      process.stdout.write(`created key ${info.id} (name ${info.name}, owner ${info.owner}); it is shown only now:\n${key}\n`);
      return 0;
    }
    if (sub === 'list') {
      for (const k of await listApiKeys(keys)) {
        const state = k.revoked_at ? `revoked ${new Date(k.revoked_at).toISOString()}` : 'active';
        process.stdout.write(`${k.id}\t${k.name}\towner=${k.owner}\tcreated ${new Date(k.created_at).toISOString()}\t${state}\n`);
      }
      return 0;
    }
    if (sub === 'revoke' && id) {
      if (await revokeApiKey(keys, id)) {
        process.stdout.write(`revoked ${id}\n`);
        return 0;
      }
      process.stderr.write(`no active key ${id}\n`);
      return 1;
    }
    process.stderr.write('usage: kirin keys create --name NAME [--owner OWNER] | keys list | keys revoke KEY_ID\n');
    return 2;
  } finally {
    await db.destroy();
  }
}

/** `kirin callback-secret`: from the database when it is Postgres (shared by all processes), else from the data folder. */
export async function callbackSecretCommand(): Promise<number> {
  const config = loadConfig();
  const db = config.databaseUrl ? openDatabase(config) : undefined;
  try {
    if (db) await migrate(db);
    process.stdout.write(`${(await loadServiceSecrets(config, db && new KyselySecretRepository(db))).callbackSecret}\n`);
    return 0;
  } finally {
    await db?.destroy();
  }
}
