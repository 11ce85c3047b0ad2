import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

type Tool = 'ffmpeg' | 'ffprobe';

const ENV: Record<Tool, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const NPM_PACKAGE: Record<Tool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

const cache = new Map<Tool, string>();

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string): string | undefined {
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function fromNpm(tool: Tool): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require(NPM_PACKAGE[tool]) as { path?: string };
    return mod.path;
  } catch {
    return undefined;
  }
}

function resolveTool(tool: Tool): string {
  const cached = cache.get(tool);
  if (cached) return cached;
  const found = process.env[ENV[tool]] || findOnPath(tool) || fromNpm(tool);
  if (!found) {
    throw new Error(`${tool} not found: set ${ENV[tool]}, put ${tool} on PATH or install ${NPM_PACKAGE[tool]}`);
  }
  cache.set(tool, found);
  return found;
}

/** Path of the ffmpeg binary: $FFMPEG_PATH, else ffmpeg on PATH, else the npm-shipped one. Cached. */
export function ffmpegPath(): string {
  return resolveTool('ffmpeg');
}

/** Path of the ffprobe binary: $FFPROBE_PATH, else ffprobe on PATH, else the npm-shipped one. Cached. */
export function ffprobePath(): string {
  return resolveTool('ffprobe');
}

const passthroughCache = new Map<string, Promise<string[]>>();

/**
 * Output options that pass every frame with its own timestamp (no duplicates, no drops):
 * `-fps_mode passthrough` where ffmpeg knows it (5.1+), else `-vsync passthrough` (4.x), so a
 * future ffmpeg that drops the deprecated `-vsync` still works. Asked once per binary (~0.1 s).
 */
export function passthroughSyncArgs(): Promise<string[]> {
  const bin = ffmpegPath();
  let args = passthroughCache.get(bin);
  if (!args) {
    args = new Promise((resolve) => {
      execFile(bin, ['-hide_banner', '-h', 'long'], { timeout: 10_000, maxBuffer: 8 * 1024 * 1024 }, (_err, stdout) => {
        resolve(/^-fps_mode\b/m.test(String(stdout ?? '')) ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']);
      });
    });
    passthroughCache.set(bin, args);
  }
  return args;
}

const showinfoCache = new Map<string, Promise<string>>();

/** The showinfo filter, without its per-frame checksums where this ffmpeg can skip them (5.0+). */
export function showinfoFilter(): Promise<string> {
  const bin = ffmpegPath();
  let filter = showinfoCache.get(bin);
  if (!filter) {
    filter = new Promise((resolve) => {
      execFile(bin, ['-hide_banner', '-h', 'filter=showinfo'], { timeout: 10_000 }, (_err, stdout) => {
        resolve(/^\s*checksum\b/m.test(String(stdout ?? '')) ? 'showinfo=checksum=0' : 'showinfo');
      });
    });
    showinfoCache.set(bin, filter);
  }
  return filter;
}

/**
 * What the decoder asks this ffmpeg (two runs, ~0.06 s each, at once; cached): its showinfo filter
 * and its passthrough options. Called early beside other work, the decoder then does not wait.
 */
export async function decoderOptions(): Promise<{ showinfo: string; syncArgs: string[] }> {
  const [showinfo, syncArgs] = await Promise.all([showinfoFilter(), passthroughSyncArgs()]);
  return { showinfo, syncArgs };
}

/** Forget cached paths (tests that change the environment). */
export function resetBinaryCache(): void {
  cache.clear();
  passthroughCache.clear();
  showinfoCache.clear();
}
