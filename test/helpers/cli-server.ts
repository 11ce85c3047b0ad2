import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const kirinBin = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kirin.js');

export interface CliServer {
  proc: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** `node [nodeArgs] bin/kirin.js start` on PORT=0; resolves once it prints where it listens. */
export function startCli(env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<CliServer> {
  const proc = spawn(process.execPath, [...nodeArgs, kirinBin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within 60 s; stdout: ${out}\nstderr: ${err}`)), 60_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ proc, url: m[1], stdout: () => out, exited });
      }
    });
    proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kirin start exited (${code}) before listening; stdout: ${out}\nstderr: ${err}`));
    });
  });
}
