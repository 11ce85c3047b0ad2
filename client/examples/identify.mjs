#!/usr/bin/env node
// node client/examples/identify.mjs FILE_OR_URL
// Uploads a local video (or gives the service an http(s) URL), waits for the analysis with a
// progress line on stderr, and prints the result JSON ({ code, message, data: { face_data, … } }).
// Needs KIRIN_URL (e.g. http://127.0.0.1:8080) and KIRIN_API_KEY (npx kirin keys create --name me).
// Exit codes: 0 analysed, 2 the input broke a rule (014001xxx), 1 any other failure.
import { KirinClient, KirinError } from '@kirin-face/client';

const [input] = process.argv.slice(2);
const { KIRIN_URL, KIRIN_API_KEY } = process.env;
if (!input || !KIRIN_URL || !KIRIN_API_KEY) {
  process.stderr.write('usage: KIRIN_URL=http://… KIRIN_API_KEY=… node client/examples/identify.mjs FILE_OR_URL\n');
  process.exit(2);
}

const kirin = new KirinClient({ baseUrl: KIRIN_URL, apiKey: KIRIN_API_KEY });
const source = /^https?:\/\//i.test(input) ? { video_url: input } : { file: input };
const stop = new AbortController();
process.once('SIGINT', () => stop.abort(new Error('interrupted: the task was cancelled'))); // Ctrl-C cancels the task too

try {
  const result = await kirin.identify(source, {
    signal: stop.signal,
    onProgress: (p, task) => process.stderr.write(`${task.id} ${task.status} ${Math.round(p * 100)}%\n`),
  });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} catch (e) {
  if (stop.signal.aborted) {
    process.stderr.write(`${e.message}\n`);
    process.exit(130);
  }
  if (!(e instanceof KirinError)) throw e;
  process.stdout.write(JSON.stringify({ error: { code: e.code, error_message: e.message } }) + '\n');
  process.exitCode = e.isInputError ? 2 : 1;
}
