/** The browser files the adapter serves: relaycast.js, sw.js (from dist/browser) and hls.js. */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveFile } from './serve-file.js';

/** Walks up from this module to the folder whose package.json is named "relaycast"; works from origin-adapter/ and dist/adapter/. */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'relaycast') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function defaultDistDir(): string {
  return join(findPackageRoot() ?? process.cwd(), 'dist', 'browser');
}

const DIST_FILES = new Set(['relaycast.js', 'relaycast.js.map', 'sw.js', 'sw.js.map']);

export function resolveHlsJs(): string {
  return createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
}

export interface AssetRoutes {
  /** Handles /relaycast/<file> and /relaycast/vendor/hls.min.js; returns false when the path is not an asset. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
}

export function createAssetRoutes(distDir: string): AssetRoutes {
  const hlsPath = resolveHlsJs();
  return {
    async handle(req, res, pathname) {
      if (pathname === '/relaycast/vendor/hls.min.js') {
        await serveFile(req, res, hlsPath, {
          contentType: 'application/javascript; charset=utf-8',
          cacheControl: 'max-age=3600',
          headers: { 'Access-Control-Allow-Origin': '*' },
        });
        return true;
      }
      const name = pathname.slice('/relaycast/'.length);
      if (!pathname.startsWith('/relaycast/') || !DIST_FILES.has(name)) return false;
      const isWorker = name === 'sw.js';
      await serveFile(req, res, join(distDir, name), {
        contentType: name.endsWith('.map') ? 'application/json; charset=utf-8' : 'application/javascript; charset=utf-8',
        // The worker script must be revalidated so an update reaches viewers; it may control the whole origin.
        cacheControl: isWorker || name === 'relaycast.js' ? 'no-cache' : 'max-age=60',
        headers: {
          'Access-Control-Allow-Origin': '*',
          ...(isWorker ? { 'Service-Worker-Allowed': '/' } : {}),
        },
        notFoundBody: `relaycast: ${name} not found in ${distDir}; run npm run build\n`,
      });
      return true;
    },
  };
}
