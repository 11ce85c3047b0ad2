import { parseArgs } from 'node:util';
import { ErrorCode, isKirinError } from '../errors.js';

const HELP = `kirin — which faces in a video can be lip-synced, and when

Usage:
  kirin identify FILE [--out DIR] [--tracks OUT.json]
                                           analyse a local MP4/MOV and print the result JSON
  kirin start                              serve the HTTP API and analyse, in one process (see README)
  kirin api                                scale-out: serve the HTTP API only (needs KIRIN_REDIS_URL)
  kirin worker                             scale-out: analyse queued tasks only (needs KIRIN_REDIS_URL)
  kirin keys create --name N [--owner O]   make an API key (printed alone on the last line)
  kirin keys list                          list keys
  kirin keys revoke KEY_ID                 revoke a key
  kirin callback-secret                    print the secret callbacks are signed with
  kirin --help                             this text

identify:
  Prints the result JSON of the identify-face API on stdout: data.face_data lists every
  usable face with face_id, start_time/end_time (ms) and face_image (a file:// URL of a
  JPEG under DIR, or under a new temporary folder when --out is not given).
  Each face (and each of data.rejected_faces) has speaking: when its own voice is heard
  (ms spans, [] when never), and data.audio says whether there is a soundtrack and when
  any voice is heard in it; KIRIN_SPEAKING=0 skips the soundtrack (faster; no speaking).
  A progress bar is drawn on stderr when it is a terminal.
  --tracks OUT.json also writes every face's box, 5 keypoints and lip contour on every
  frame of the video (frames_ms; null where a face is absent; boxes smoothed, raw_boxes
  as measured), in source pixels.

  Input rules: MP4 or MOV (judged from the bytes), at most 100 MB, 2–60 s, the shorter
  display side 720 or 1080 px, width and height within 512–2160 px.

Exit codes:
  0  analysed (face_data may be empty: no usable face is not an error)
  2  the input breaks a rule: stdout holds {"error":{"code":"…","error_message":"…"}}
  1  internal error: stdout holds {"error":{"code":"014002095","error_message":"…"}}
`;

function printError(code: string, message: string): void {
  process.stdout.write(JSON.stringify({ error: { code, error_message: message } }) + '\n');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        tracks: { type: 'string' },
        name: { type: 'string' },
        owner: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || !command || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  // each command imports only what it needs: `identify` starts without the server's modules
  const servers = ['start', 'api', 'worker'] as const;
  if ((servers as readonly string[]).includes(command)) {
    const commands = await import('./start-command.js');
    const run = { start: commands.startCommand, api: commands.apiCommand, worker: commands.workerCommand }[command as (typeof servers)[number]];
    await run();
    return -1; // keeps running
  }
  if (command === 'keys') return (await import('./keys-command.js')).keysCommand(rest, { name: parsed.values.name, owner: parsed.values.owner });
  if (command === 'callback-secret') return (await import('./keys-command.js')).callbackSecretCommand();
  if (command !== 'identify') {
    process.stderr.write(`unknown command: ${command}\n\n${HELP}`);
    return 2;
  }
  if (rest.length !== 1) {
    process.stderr.write(`identify takes exactly one FILE\n\n${HELP}`);
    return 2;
  }
  try {
    const { identifyCommand } = await import('./identify-command.js');
    process.stdout.write((await identifyCommand({ file: rest[0], outDir: parsed.values.out, tracksFile: parsed.values.tracks })) + '\n');
    return 0;
  } catch (e) {
    if (isKirinError(e)) {
      printError(e.code, e.message);
      return 2;
    }
    printError(ErrorCode.Internal, `internal error: ${(e as Error)?.message ?? String(e)}`);
    if (process.env.KIRIN_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
    return 1;
  }
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (e) {
  // e.g. `start` on a port in use: one clear line, no stack (KIRIN_DEBUG=1 shows it)
  process.stderr.write(`kirin: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.KIRIN_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  code = 1;
}
if (code >= 0) process.exitCode = code;
