// node --import ./test/helpers/no-tsx.mjs …: makes loading tsx or any .ts module fail, in the main
// thread and in every worker thread (they inherit --import), to prove a process runs compiled JS only.
import { register } from 'node:module';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) throw new Error('no-tsx: tsx imported: ' + specifier);
  const resolved = await next(specifier, context);
  if (/\\.[cm]?ts$/.test(new URL(resolved.url).pathname)) throw new Error('no-tsx: TypeScript module loaded: ' + resolved.url);
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
