import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

/**
 * `engines.node` of package.json is a promise: every Node version it names runs the project.
 * Each locked package (runtime, build and test tools alike) must accept all of them, or
 * `npm ci` warns EBADENGINE and the promise is false. A dependency that needs a newer Node is
 * pinned to an older release, or overridden (package.json `overrides`), or the claim narrowed.
 */
describe('Node versions package.json claims', () => {
  const root = path.join(__dirname, '..');
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: unknown }>;
  };
  const claimed = manifest.engines.node;

  it('include the Node running this check', () => {
    expect(semver.satisfies(process.version, claimed)).toBe(true);
  });

  it('are accepted by every locked package', () => {
    const excluding: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (where === '') continue;
      const engines = entry.engines as { node?: unknown } | string[] | undefined;
      const node = Array.isArray(engines)
        ? engines.find((e) => e.startsWith('node'))?.replace(/^node\s*/, '')
        : engines?.node;
      if (typeof node !== 'string') continue;
      if (!semver.validRange(node) || !semver.subset(claimed, node)) {
        excluding.push(`${where.replace(/^.*node_modules\//, '')}@${entry.version}: node ${node}`);
      }
    }
    expect(excluding).toEqual([]);
  });
});
