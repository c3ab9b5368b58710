import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** URL prefix → folder. Only files inside these folders are served; everything else is 404. */
export type Mounts = Readonly<Record<string, string>>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The page may load only from its own origin (plus images and downloads it makes itself):
 * a second line of defence behind the test that counts requests.
 */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' blob: data:; connect-src 'self' blob: data:; style-src 'self' 'unsafe-inline'";

/**
 * The file a URL path names inside the mounts, or undefined. Refuses encoded and literal `..`,
 * backslashes, NUL and dot files, then checks the real path (symlinks resolved) is still inside the
 * mount's real folder.
 */
export async function resolveRequest(mounts: Mounts, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return undefined;
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    const mount = prefix.split('/').filter((s) => s.length > 0);
    if (!mount.every((m, i) => segments[i] === m)) continue;
    const rest = segments.slice(mount.length);
    const base = await realpath(mounts[prefix]!).catch(() => undefined);
    if (!base) return undefined;
    const file = await realpath(path.join(base, ...(rest.length === 0 ? ['index.html'] : rest))).catch(() => undefined);
    if (!file || !(file === base || file.startsWith(base + path.sep))) return undefined;
    const info = await stat(file).catch(() => undefined);
    return info?.isFile() ? file : undefined;
  }
  return undefined;
}

/** Serves GET/HEAD of the mounted folders on host:port (port 0: any free port). */
export async function startStaticServer(mounts: Mounts, host: string, port: number, json: Record<string, () => Promise<unknown>> = {}) {
  const server = http.createServer((req, res) => {
    void (async () => {
      const headers = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
        return;
      }
      const urlPath = (req.url ?? '/').split('?')[0]!;
      const generated = json[urlPath];
      if (generated) {
        const body = JSON.stringify(await generated());
        res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const file = await resolveRequest(mounts, urlPath);
      if (!file) {
        res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).on('error', () => res.destroy()).pipe(res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The PNG files of a folder whose names end in `labelK` (the fixture digits), with their labels. */
export async function labelledImages(dir: string): Promise<{ name: string; label: number }[]> {
  const names = (await readdir(dir)).filter((n) => /label\d+\.png$/.test(n)).sort();
  return names.map((name) => ({ name, label: Number(/label(\d+)\.png$/.exec(name)![1]) }));
}
