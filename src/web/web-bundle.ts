import * as fs from 'node:fs';
import * as path from 'node:path';

/** One file of the built web bundle, held in memory (the bundle is small and never changes at run time). */
export interface BundleFile {
  body: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** A hashed asset name as Vite writes it: no path, no dot-dot. */
export const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * Where `npm run build:web` writes the bundle (web/dist at the repository root), from the source
 * tree (src/web) or the compiled one (dist/src/web) alike.
 */
export function defaultBundleDir(): string {
  const candidates = [
    path.resolve(__dirname, '..', '..', 'web', 'dist'),
    path.resolve(__dirname, '..', '..', '..', 'web', 'dist'),
  ];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? candidates[0];
}

export interface WebBundle {
  /** False when the bundle was not built: the pages then say how to build it. */
  built: boolean;
  page(name: 'index' | 'admin'): BundleFile | undefined;
  asset(name: string): BundleFile | undefined;
}

/** Reads the built pages and their assets once, at boot. */
export function loadWebBundle(dir: string): WebBundle {
  const pages = new Map<string, BundleFile>();
  const assets = new Map<string, BundleFile>();
  const read = (file: string): BundleFile | undefined => {
    const type = CONTENT_TYPES[path.extname(file)];
    return type ? { body: fs.readFileSync(file), contentType: type } : undefined;
  };
  for (const name of ['index', 'admin'] as const) {
    const file = path.join(dir, `${name}.html`);
    const loaded = fs.existsSync(file) ? read(file) : undefined;
    if (loaded) pages.set(name, loaded);
  }
  const assetDir = path.join(dir, 'assets');
  if (fs.existsSync(assetDir)) {
    for (const name of fs.readdirSync(assetDir)) {
      if (!ASSET_NAME.test(name)) continue;
      const loaded = read(path.join(assetDir, name));
      if (loaded) assets.set(name, loaded);
    }
  }
  return {
    built: pages.size === 2,
    page: (name) => pages.get(name),
    asset: (name) => (ASSET_NAME.test(name) ? assets.get(name) : undefined),
  };
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The pages' Content-Security-Policy: everything from this origin only; scripts and styles from
 * files (nothing inline); WebSockets to this host only (named, for browsers whose 'self' does not
 * cover ws:); never framed.
 */
export function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Shown at / and /admin when the server runs without a built bundle (e.g. `nest start --watch`). */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Web terminal not built</title></head>
<body><h1>The web terminal is not built</h1>
<p>Run <code>npm run build:web</code> (npm start and npm run build do it) and restart the server.
The GraphQL API is at <code>/graphql</code>.</p></body></html>
`;
