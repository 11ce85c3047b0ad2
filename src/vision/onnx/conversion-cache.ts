import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OnnxConversion } from './tfjs-to-onnx.js';

const converterDir = dirname(fileURLToPath(import.meta.url));

/** Where converted models are kept: $KIRIN_MODEL_CACHE, else node_modules/.cache/kirin-face of this package. */
export function conversionCacheDir(): string {
  return process.env.KIRIN_MODEL_CACHE || join(converterDir, '..', '..', '..', 'node_modules', '.cache', 'kirin-face');
}

let converterSource: string | undefined;

/** The converter's own code, so a model converted by other code is never used. */
function converterFingerprint(): string {
  converterSource ??= readdirSync(converterDir)
    .filter((f) => /\.[cm]?[jt]s$/.test(f))
    .sort()
    .map((f) => readFileSync(join(converterDir, f), 'utf8'))
    .join('\0');
  return converterSource;
}

/**
 * The conversion of these inputs: from the cache when the same inputs were converted by the same
 * converter before (it saves ~0.4 s of CPU at every process start), else made by `convert` and
 * stored. A cache that cannot be read or written only costs the conversion.
 */
export function cachedConversion(inputs: readonly (string | Uint8Array)[], convert: () => OnnxConversion): OnnxConversion {
  const hash = createHash('sha256').update(converterFingerprint());
  for (const part of inputs) hash.update(part).update('\0');
  const base = join(conversionCacheDir(), hash.digest('hex').slice(0, 32));
  try {
    const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Omit<OnnxConversion, 'bytes'>;
    return { ...meta, bytes: new Uint8Array(readFileSync(`${base}.onnx`)) };
  } catch {
    // not converted yet (or unreadable): convert now
  }
  const converted = convert();
  try {
    mkdirSync(dirname(base), { recursive: true });
    // written under temporary names, then renamed: a reader never sees half a file
    const tmp = `${base}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(`${tmp}.onnx`, converted.bytes);
    writeFileSync(`${tmp}.json`, JSON.stringify({ inputName: converted.inputName, outputNames: converted.outputNames }));
    renameSync(`${tmp}.onnx`, `${base}.onnx`);
    renameSync(`${tmp}.json`, `${base}.json`);
  } catch {
    // a read-only install converts at every start
  }
  return converted;
}
