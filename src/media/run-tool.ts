import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export interface RunResult {
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Stop collecting stdout beyond this many bytes (the process keeps running). */
  maxStdoutBytes?: number;
}

const MAX_STDERR_CHARS = 64 * 1024;

/**
 * Runs ffmpeg/ffprobe to completion, killing it (SIGKILL) on timeout or abort.
 * Rejects only if the binary cannot be started or the signal aborts; a non-zero exit is reported in the result.
 */
export function runTool(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(opts.signal.reason);
      return;
    }
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const maxOut = opts.maxStdoutBytes ?? 64 * 1024 * 1024;

    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes < maxOut) {
        out.push(chunk);
        outBytes += chunk.length;
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      // Keep the tail: the last lines carry the reason of a failure.
      stderr = (stderr + s).slice(-MAX_STDERR_CHARS);
    });

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanup = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (err) => {
      cleanup();
      reject(err);
    });
    child.on('close', (exitCode, exitSignal) => {
      cleanup();
      if (aborted) {
        reject(opts.signal?.reason ?? new Error('aborted'));
        return;
      }
      resolve({ exitCode, exitSignal, stdout: Buffer.concat(out), stderr, timedOut });
    });
  });
}

/**
 * The last meaningful line(s) of an ffmpeg/ffprobe stderr, for error messages shown to clients:
 * local paths in `redact` become "input", and log prefixes like "[mov,mp4 @ 0x55…]" are dropped.
 */
export function stderrTail(stderr: string, redact: string[] = [], maxChars = 300): string {
  const secrets = redact.flatMap((p) => [localInput(p), resolve(p), p]).filter(Boolean);
  const lines = stderr
    .split(/\r?\n/)
    .filter((l) => !l.includes('Parsed_showinfo'))
    .map((l) => {
      let line = l.replace(/\[[^\]]* @ 0x[0-9a-f]+\]\s*/g, '').trim();
      for (const s of secrets) line = line.split(s).join('input');
      return line;
    })
    .filter((l) => l && !/deprecated/i.test(l));
  const tail = lines.slice(-3).join(' | ');
  return tail.length > maxChars ? '…' + tail.slice(-maxChars) : tail;
}

function localInput(path: string): string {
  return 'file:' + resolve(path);
}
