/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- a Jest transformer is loaded as CommonJS */
// Jest 29 cannot load ES modules in its CommonJS runtime, and NestJS 12 ships ESM only. This
// transformer rewrites the ESM files of node_modules into CommonJS so the specs can boot the app.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const ts = require('typescript');

const packageTypeCache = new Map();

function isEsmFile(filename) {
  if (filename.endsWith('.mjs')) return true;
  if (filename.endsWith('.cjs')) return false;
  let dir = path.dirname(filename);
  const visited = [];
  while (dir !== path.dirname(dir)) {
    if (packageTypeCache.has(dir)) break;
    visited.push(dir);
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      let manifest = {};
      try {
        manifest = JSON.parse(fs.readFileSync(pkg, 'utf8'));
      } catch {
        manifest = {};
      }
      if (manifest.type !== undefined || manifest.name !== undefined) {
        packageTypeCache.set(dir, manifest.type === 'module');
        break;
      }
    }
    dir = path.dirname(dir);
  }
  const result = packageTypeCache.get(dir) === true;
  for (const d of visited) packageTypeCache.set(d, result);
  return result;
}

module.exports = {
  getCacheKey(sourceText, sourcePath) {
    return crypto
      .createHash('sha256')
      .update('esm-transform-v4\0')
      .update(sourcePath)
      .update('\0')
      .update(sourceText)
      .digest('hex');
  },
  process(sourceText, sourcePath) {
    if (!isEsmFile(sourcePath)) {
      // CommonJS that loads ESM with import() (Mercurius loads quick-lru so) needs a require,
      // which this transformer then serves as CommonJS.
      if (!sourceText.includes('import(')) return { code: sourceText };
      return {
        code: sourceText.replace(
          /\bimport\((['"][^'"]+['"])\)/g,
          'Promise.resolve().then(() => require($1))',
        ),
      };
    }
    // ESM code may declare its own `require` (createRequire), which would clash with the
    // CommonJS wrapper's parameter of the same name, so it is renamed first.
    const renamed = /\b(?:const|let|var)\s+require\s*=/.test(sourceText)
      ? sourceText.replace(/\brequire\b/g, '__esmRequire')
      : sourceText;
    const patched = renamed.replace(
      /\bimport\.meta\.url\b/g,
      "require('node:url').pathToFileURL(__filename).href",
    );
    const out = ts.transpileModule(patched, {
      fileName: sourcePath,
      compilerOptions: {
        allowJs: true,
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    return { code: out.outputText };
  },
};
