import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';

const READER = new URL('./pipe-reader-thread.mjs', import.meta.url);

type ReaderMessage =
  | { type: 'stdout'; data: Uint8Array }
  | { type: 'stdout-close' | 'stderr-close' }
  | { type: 'stderr'; text: string }
  | { type: 'error'; message: string; code?: string }
  | { type: 'close'; code: number | null; signal: NodeJS.Signals | null };

/** What decodeFrames uses of a ChildProcess, for a process whose pipes another thread reads. */
export interface PipedProcess extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  kill(signal: NodeJS.Signals): void;
  /** Gives a stdout block back to be filled again; it is detached here (unusable) from then on. */
  recycle(block: Uint8Array): void;
}

/**
 * Runs `command` with its stdout and stderr read by a worker thread: the child never waits on a
 * full pipe while this thread runs models. stdout arrives in blocks of `blockBytes` (whole
 * frames); pausing stdout pauses the reading there.
 */
export function spawnOffThread(command: string, args: string[], blockBytes: number): PipedProcess {
  const worker = new Worker(READER, { workerData: { command, args, blockBytes } });
  const stdout = new Readable({ read() {} });
  const stderr = new Readable({ read() {} });
  const child = Object.assign(new EventEmitter(), {
    stdout,
    stderr,
    exitCode: null as number | null,
    signalCode: null as NodeJS.Signals | null,
    kill(signal: NodeJS.Signals) {
      worker.postMessage({ type: 'kill', signal });
    },
    recycle(block: Uint8Array) {
      if (block.byteOffset === 0 && block.byteLength === block.buffer.byteLength) worker.postMessage({ type: 'recycle', data: block }, [block.buffer as ArrayBuffer]);
    },
  });
  stdout.on('pause', () => worker.postMessage({ type: 'pause' }));
  stdout.on('resume', () => worker.postMessage({ type: 'resume' }));
  worker.on('message', (m: ReaderMessage) => {
    if (m.type === 'stdout') stdout.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    else if (m.type === 'stdout-close') stdout.push(null);
    else if (m.type === 'stderr') stderr.push(m.text);
    else if (m.type === 'stderr-close') stderr.push(null);
    else if (m.type === 'error') child.emit('error', Object.assign(new Error(m.message), { code: m.code }));
    else if (m.type === 'close') {
      child.exitCode = m.code;
      child.signalCode = m.signal;
      // the streams end first, as a ChildProcess's do
      stdout.push(null);
      stderr.push(null);
      setImmediate(() => child.emit('close', m.code, m.signal));
    }
  });
  worker.on('error', (err) => child.emit('error', err));
  return child;
}
