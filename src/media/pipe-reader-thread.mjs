// A thread that runs one child process and reads its output, so the pipe is drained even while
// the main thread is busy (a full pipe would stop the child). Plain JS: it starts in a few ms.
// stdout is sent on in blocks of `blockBytes` (a decoded frame), transferred, not copied.
import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';

const { command, args, blockBytes } = workerData;
const port = parentPort;
const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });

let block = new Uint8Array(blockBytes);
let filled = 0;
child.stdout.on('data', (chunk) => {
  let off = 0;
  while (off < chunk.length) {
    const n = Math.min(blockBytes - filled, chunk.length - off);
    block.set(chunk.subarray(off, off + n), filled);
    filled += n;
    off += n;
    if (filled === blockBytes) {
      port.postMessage({ type: 'stdout', data: block }, [block.buffer]);
      block = new Uint8Array(blockBytes);
      filled = 0;
    }
  }
});
// a cut-off last frame (`filled` short of a block) is not sent
child.stdout.on('close', () => port.postMessage({ type: 'stdout-close' }));
child.stderr.setEncoding('utf8');
child.stderr.on('data', (text) => port.postMessage({ type: 'stderr', text }));
child.stderr.on('close', () => port.postMessage({ type: 'stderr-close' }));
child.on('error', (err) => port.postMessage({ type: 'error', message: err.message, code: err.code }));
child.on('close', (code, signal) => {
  port.postMessage({ type: 'close', code, signal });
  port.close();
});
port.on('message', (m) => {
  if (m.type === 'pause') child.stdout.pause();
  else if (m.type === 'resume') child.stdout.resume();
  else if (m.type === 'kill' && child.exitCode === null && child.signalCode === null) child.kill(m.signal);
});
