/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a require hook is CommonJS */
// Minimal require hook so a child process can run src/main.ts directly (boot tests): each .ts
// file is transpiled alone (like ts-jest's isolatedModules) and the tsconfig path aliases
// resolve. ESM-only packages load through Node's own require(esm).
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

require.extensions['.ts'] = function compile(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2023,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      inlineSourceMap: false,
    },
  });
  module._compile(outputText, filename);
};

module.exports = {};
