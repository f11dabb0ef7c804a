import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentSecurityPolicy, loadWebBundle } from './web-bundle';

describe('web bundle', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-bundle-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is not built without both pages, and says so', () => {
    fs.writeFileSync(path.join(dir, 'index.html'), '<p>t</p>');
    const bundle = loadWebBundle(dir);
    expect(bundle.built).toBe(false);
    expect(bundle.page('admin')).toBeUndefined();
  });

  it('serves the pages and the hashed assets of known types, nothing by path', () => {
    fs.writeFileSync(path.join(dir, 'index.html'), '<p>terminal</p>');
    fs.writeFileSync(path.join(dir, 'admin.html'), '<p>admin</p>');
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'assets', 'index-Ab12.js'), 'export {}');
    fs.writeFileSync(path.join(dir, 'assets', 'notes.txt'), 'not served');
    fs.writeFileSync(path.join(dir, 'secret.js'), 'not an asset');
    const bundle = loadWebBundle(dir);
    expect(bundle.built).toBe(true);
    expect(bundle.page('index')?.body.toString()).toBe('<p>terminal</p>');
    expect(bundle.asset('index-Ab12.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(bundle.asset('notes.txt')).toBeUndefined();
    expect(bundle.asset('../secret.js')).toBeUndefined();
    expect(bundle.asset('..')).toBeUndefined();
  });

  it('allows only this origin, sockets to this host, nothing inline', () => {
    const csp = contentSecurityPolicy('127.0.0.1:3000');
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:3000 wss://127.0.0.1:3000");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    // A forged Host header cannot add a source.
    expect(contentSecurityPolicy("evil.example 'unsafe-inline'")).toContain("connect-src 'self';");
  });
});
