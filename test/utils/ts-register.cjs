/* global require, module, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a require hook is CommonJS */
// Minimal require hook so a child process can run src/main.ts directly (boot tests): each .ts
// file is transpiled alone (like ts-jest's isolatedModules) and the tsconfig path aliases
// resolve. ESM-only packages load through Node's own require(esm). Transpiled files are kept in
// node_modules/.cache (keyed by the source's hash): the suites start dozens of child servers,
// and transpiling the whole source tree again took most of each boot's CPU.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const root = path.resolve(__dirname, '../..');
const aliases = [
  ['@app/dhan-simulator', path.join(root, 'libs/dhan-simulator/src')],
  ['@app/dhan', path.join(root, 'libs/dhan/src')],
];

const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  for (const [alias, target] of aliases) {
    if (request === alias || request.startsWith(`${alias}/`)) {
      return originalResolve.call(this, target + request.slice(alias.length), parent, ...rest);
    }
  }
  return originalResolve.call(this, request, parent, ...rest);
};

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2023,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  inlineSourceMap: false,
};
const cacheDir = path.join(root, 'node_modules/.cache/ts-register');
const cacheSalt = `${ts.version}:${JSON.stringify(compilerOptions)}`;

function transpile(source, filename) {
  const key = crypto.createHash('sha256').update(cacheSalt).update(filename).update(source);
  const cached = path.join(cacheDir, `${key.digest('hex')}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  const { outputText } = ts.transpileModule(source, { fileName: filename, compilerOptions });
  try {
    // Written aside, then renamed: processes starting at once never read half a file.
    fs.mkdirSync(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(partial, outputText);
    fs.renameSync(partial, cached);
  } catch {
    // a read-only tree: transpile every time
  }
  return outputText;
}

require.extensions['.ts'] = function compile(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};

module.exports = {};
