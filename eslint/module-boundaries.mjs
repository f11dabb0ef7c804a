// Module boundaries, as the house rules state them: libraries never import the application or
// the tests; a library reaches another library only through its `@app/<name>` alias; an
// application module never reaches into another module's internals (its entities, test harness
// or scenario specs); the trading kernel (src/trading) stays framework-free and imports only
// itself and the DhanHQ client. A short rule of our own: it needs only the import's resolved folder.
import * as path from 'node:path';

const LIB_ALIASES = [
  ['@app/dhan-simulator', 'libs/dhan-simulator/src'],
  ['@app/dhan', 'libs/dhan/src'],
];

/** The framework-free kernel every module may use; it depends on nothing of the application. */
const KERNEL = 'trading';

/** Folders of a module that no other module may import from. */
export const MODULE_INTERNALS = ['entities', '__tests__', 'scenarios'];
/** Test code may share another module's test factories, never its entities. */
const TEST_CODE_INTERNALS = ['entities'];

function resolveTarget(source, fromFile, root) {
  if (source.startsWith('.'))
    return path.relative(root, path.resolve(path.dirname(fromFile), source));
  for (const [alias, folder] of LIB_ALIASES) {
    if (source === alias || source.startsWith(`${alias}/`)) {
      return path.posix.join(folder, source.slice(alias.length));
    }
  }
  return undefined; // a package
}

/** `libs/<name>`, `src/<module>`, `test` or undefined, with the rest of the path. */
function areaOf(relative) {
  const parts = relative.split(path.sep).join('/').split('/');
  if (parts[0] === 'libs' && parts.length > 1)
    return { kind: 'lib', name: parts[1], rest: parts.slice(2) };
  if (parts[0] === 'src' && parts.length > 2)
    return { kind: 'module', name: parts[1], rest: parts.slice(2) };
  if (parts[0] === 'src') return { kind: 'module', name: '', rest: parts.slice(1) };
  if (parts[0] === 'test') return { kind: 'test', name: 'test', rest: parts.slice(1) };
  return undefined;
}

function violation(from, to, source, spec, testCode) {
  if (from.kind === 'module' && from.name === KERNEL && !spec && !source.startsWith('node:')) {
    const allowed =
      to?.kind === 'module' ? to.name === KERNEL : to?.kind === 'lib' && to.name === 'dhan';
    return allowed ? undefined : 'kernelImports';
  }
  if (!to) return undefined;
  if (from.kind === 'lib') {
    if (to.kind === 'module' || to.kind === 'test') return 'libsImportApp';
    if (to.kind === 'lib' && to.name !== from.name && source.startsWith('.')) return 'libByPath';
    return undefined;
  }
  if (from.kind === 'module') {
    if (to.kind === 'test') return 'appImportsTest';
    if (to.kind === 'lib' && source.startsWith('.')) return 'libByPath';
    if (
      to.kind === 'module' &&
      to.name !== from.name &&
      to.rest.some((p) => (testCode ? TEST_CODE_INTERNALS : MODULE_INTERNALS).includes(p))
    ) {
      return 'moduleInternals';
    }
  }
  return undefined;
}

export const moduleBoundariesRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep libraries and modules behind their boundaries' },
    schema: [],
    messages: {
      libsImportApp: 'libs/{{lib}} must not import the application or the tests ({{source}}).',
      libByPath: 'Import a library through its @app alias, not by path ({{source}}).',
      appImportsTest: 'Application code must not import test code ({{source}}).',
      kernelImports:
        'src/trading is the framework-free kernel: it imports only itself and @app/dhan ({{source}}).',
      moduleInternals:
        "src/{{module}} must not reach into another module's internals ({{source}}): use its service or events.",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename;
    const from = areaOf(path.relative(root, file));
    if (!from || from.kind === 'test') return {};
    const check = (node) => {
      if (!node.source || typeof node.source.value !== 'string') return;
      const source = node.source.value;
      const target = resolveTarget(source, file, root);
      const to = target === undefined ? undefined : areaOf(target);
      const spec = file.endsWith('.spec.ts');
      const testCode = spec || file.split(path.sep).includes('__tests__');
      const messageId = violation(from, to, source, spec, testCode);
      if (messageId) {
        context.report({
          node: node.source,
          messageId,
          data: { source, lib: from.name, module: from.name },
        });
      }
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default { rules: { 'module-boundaries': moduleBoundariesRule } };
