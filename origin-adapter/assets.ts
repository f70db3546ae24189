/** The browser files the adapter serves: relaycast.js, sw.js (from dist/browser) and the players the player page can use. */
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

/** The folder of an installed package, found from its main entry (some packages do not export package.json). */
function packageDir(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed: unknown = JSON.parse(readFileSync(pkg, 'utf8'));
        if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === name) return dir;
      } catch {
        // keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`relaycast adapter: package ${name} not found`);
    dir = up;
  }
}

/** /relaycast/vendor/<name> -> [package, file inside it]: the players the generated page can use. */
const VENDOR: Readonly<Record<string, readonly [string, string]>> = {
  'hls.min.js': ['hls.js', 'dist/hls.min.js'],
  'dash.all.min.js': ['dashjs', 'dist/modern/umd/dash.all.min.js'],
  'video.min.js': ['video.js', 'dist/video.min.js'],
  'video-js.min.css': ['video.js', 'dist/video-js.min.css'],
  'shaka-player.compiled.js': ['shaka-player', 'dist/shaka-player.compiled.js'],
};

export function resolveVendor(name: string): string | undefined {
  const v = VENDOR[name];
  return v === undefined ? undefined : join(packageDir(v[0]), v[1]);
}

export interface AssetRoutes {
  /** Handles /relaycast/<file> and /relaycast/vendor/<player file>; returns false when the path is not an asset. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
}

export function createAssetRoutes(distDir: string): AssetRoutes {
  const vendor = new Map(Object.keys(VENDOR).map((n) => [n, resolveVendor(n)]));
  return {
    async handle(req, res, pathname) {
      const vendorPath = pathname.startsWith('/relaycast/vendor/') ? vendor.get(pathname.slice('/relaycast/vendor/'.length)) : undefined;
      if (vendorPath !== undefined) {
        await serveFile(req, res, vendorPath, {
          contentType: vendorPath.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/javascript; charset=utf-8',
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
