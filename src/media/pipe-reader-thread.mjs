// A thread that runs one child process and reads its output, so the pipe is drained even while
// the main thread is busy (a full pipe would stop the child). Plain JS: it starts in a few ms.
// stdout is sent on in blocks of `blockBytes` (a decoded frame), transferred, not copied; blocks
// the consumer is done with come back ('recycle') and are filled again, as fresh memory costs a
// page fault per 4 KB on first touch (a third of a task's system time before).
import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';

const { command, args, blockBytes } = workerData;
const port = parentPort;
const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });

const spare = [];
const SPARE_MAX = 64;
const nextBlock = () => spare.pop() ?? new Uint8Array(blockBytes);
let block = nextBlock();
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
      block = nextBlock();
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
  else if (m.type === 'recycle' && m.data.byteLength === blockBytes && spare.length < SPARE_MAX) spare.push(m.data);
  else if (m.type === 'kill' && child.exitCode === null && child.signalCode === null) child.kill(m.signal);
});
