import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCode, KirinError } from '../errors.ts';
import { lowerPriority } from '../priority.ts';
import { findOnPath, isExecutableFile } from './binaries.ts';

/**
 * How ffmpeg/ffprobe are run on untrusted files: what they may read, how long they may take and
 * how much memory they may use. Read from the environment at each call, so analysis worker
 * threads (which get a copy of it) and the CLI follow the same settings as the server.
 */
export interface ToolLimits {
  /** Wall-clock limit of one ffprobe run and of one face-picture cut (KIRIN_PROBE_TIMEOUT_MS). */
  probeTimeoutMs: number;
  /** Wall-clock limit of one whole decode (KIRIN_DECODE_TIMEOUT_MS). */
  decodeTimeoutMs: number;
  /** Data-segment limit (RLIMIT_DATA: heap, anonymous maps, thread stacks) of each process; 0 = none (KIRIN_FFMPEG_MEMORY_MB). */
  memoryBytes: number;
}

const MiB = 1024 * 1024;

export function toolLimits(env: NodeJS.ProcessEnv = process.env): ToolLimits {
  const num = (name: string, dflt: number, min: number): number => {
    const v = env[name];
    const n = v === undefined || v === '' ? dflt : Number(v);
    return Number.isFinite(n) && n >= min ? n : dflt;
  };
  return {
    probeTimeoutMs: num('KIRIN_PROBE_TIMEOUT_MS', 20_000, 1),
    decodeTimeoutMs: num('KIRIN_DECODE_TIMEOUT_MS', 10 * 60_000, 1),
    memoryBytes: Math.round(num('KIRIN_FFMPEG_MEMORY_MB', 1024, 0) * MiB),
  };
}

/** Streams a file may declare before it is refused; ffmpeg's own default (1000) lets a crafted file eat gigabytes. */
export const MAX_STREAMS = 64;

/**
 * Input options for every untrusted file, placed before `-i`: read only local files (no network
 * or other protocol, whatever the file refers to), parse it only as MP4/MOV (never as a playlist,
 * concat list or other format that names further inputs), and stop at MAX_STREAMS streams.
 */
export const UNTRUSTED_INPUT_OPTIONS: readonly string[] = Object.freeze([
  '-protocol_whitelist', 'file',
  '-f', 'mov',
  '-max_streams', String(MAX_STREAMS),
]);

let prlimitCache: string | null | undefined;

/** util-linux `prlimit`, if installed (Node's spawn cannot set rlimits itself). */
function prlimitPath(): string | null {
  if (prlimitCache === undefined) prlimitCache = findOnPath('prlimit') ?? ['/usr/bin/prlimit', '/bin/prlimit'].find(isExecutableFile) ?? null;
  return prlimitCache;
}

/** Whether spawnTool can enforce the memory limit on this machine. */
export function memoryLimitAvailable(): boolean {
  return prlimitPath() !== null;
}

/**
 * Starts ffmpeg/ffprobe with stdout/stderr piped, under the memory limit and without core
 * dumps (through `prlimit`, which sets the limits on itself and then execs the tool, so the
 * child's pid is the tool's). Without prlimit the tool runs unlimited.
 */
export function spawnTool(bin: string, args: string[], memoryBytes = toolLimits().memoryBytes): ChildProcessByStdio<null, Readable, Readable> {
  const [command, commandArgs] = toolCommand(bin, args, memoryBytes);
  return spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The command line spawnTool runs: the tool under prlimit's limits where prlimit exists. */
export function toolCommand(bin: string, args: string[], memoryBytes = toolLimits().memoryBytes): [string, string[]] {
  const prlimit = prlimitPath();
  // A missing binary is spawned directly, so it fails with spawn's own ENOENT as before
  // (a bare name is left to prlimit's PATH search).
  if (!prlimit || (bin.includes('/') && !isExecutableFile(bin))) return [bin, args];
  const limits = ['--core=0', ...(memoryBytes > 0 ? [`--data=${memoryBytes}`] : [])];
  return [prlimit, [...limits, '--', bin, ...args]];
}

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
  /**
   * Run it at a lower CPU priority (nice 10 above this process's): for work off the critical path, which then takes
   * the CPU the decoder and the models leave idle instead of slowing them down.
   */
  background?: boolean;
}

/** How much nicer than this process background tools run (19 is the nicest). */
const BACKGROUND_NICE = 10;

const MAX_STDERR_CHARS = 64 * 1024;

/**
 * Runs ffmpeg/ffprobe to completion (through spawnTool), killing it (SIGKILL) on timeout or abort.
 * Rejects only if the binary cannot be started or the signal aborts; a non-zero exit is reported in the result.
 */
export function runTool(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(opts.signal.reason);
      return;
    }
    const child = spawnTool(bin, args);
    if (opts.background && child.pid !== undefined) lowerPriority(BACKGROUND_NICE, child.pid);
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

const OUT_OF_MEMORY = /Cannot allocate memory/;

/**
 * Judges an ffmpeg/ffprobe run that did not succeed, before the caller looks at the input:
 * a hang (killed at its wall-clock limit) or a crash (ended by a signal) is a failure of the tool,
 * not a verdict on the input: 014002095. Running out of memory — the memory limit, or ffmpeg
 * refusing an absurd allocation a crafted file asks for — is the input's doing: 014001108 naming
 * the limit. Undefined when the tool simply exited non-zero (the caller explains that).
 */
export function toolFault(
  what: string,
  r: { exitSignal: NodeJS.Signals | null; timedOut: boolean; stderr: string },
  timeoutMs: number,
  memoryBytes = toolLimits().memoryBytes,
): KirinError | undefined {
  if (r.timedOut) return new KirinError(ErrorCode.Internal, `internal error: ${what} did not finish within ${timeoutMs / 1000} s and was stopped`);
  if (r.exitSignal) return new KirinError(ErrorCode.Internal, `internal error: ${what} crashed (${r.exitSignal})`);
  if (OUT_OF_MEMORY.test(r.stderr)) {
    const limit = memoryBytes > 0 && memoryLimitAvailable() ? ` (limit ${Math.round(memoryBytes / MiB)} MB)` : '';
    return new KirinError(ErrorCode.Unreadable, `video is unreadable: ${what} ran out of memory reading it${limit}`);
  }
  return undefined;
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

/** `file:` URL-ish input for ffmpeg/ffprobe: never a network protocol, never parsed as an option. */
export function localInput(path: string): string {
  return 'file:' + resolve(path);
}
