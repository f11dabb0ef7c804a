import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '..');
const run = promisify(execFile);

interface LintMessage {
  ruleId: string | null;
  message: string;
}
interface LintResult {
  filePath: string;
  messages: LintMessage[];
}

/**
 * The project's own eslint configuration, run by the real CLI on files written into the tree
 * (the type-aware parser only reads files its tsconfig includes), then removed.
 */
describe('eslint configuration: module boundaries', () => {
  const tag = `boundary-${process.pid}.lint-fixture.ts`;
  const fixtures: Record<string, string> = {
    libImportsApp: `libs/dhan/src/${tag}`,
    libByPath: `libs/dhan-simulator/src/${tag}`,
    moduleInternals: `src/execution/${tag}`,
    appImportsTest: `src/orders/${tag}`,
    kernelImportsFramework: `src/trading/${tag}`,
    allowed: `src/watchlist/${tag}`,
  };
  const sources: Record<string, string> = {
    libImportsApp: "export { SYSTEM_CLOCK } from '../../../src/common/clock';\n",
    libByPath: "export { ExchangeSegment } from '../../dhan/src/types';\n",
    moduleInternals: "export { OrderEntity } from '../orders/entities/order.entity';\n",
    appImportsTest: "export { createTestApp } from '../../test/utils/test-app';\n",
    kernelImportsFramework:
      "export { Injectable } from '@nestjs/common';\nexport { RiskService } from '../risk/risk.service';\nexport { ExchangeSegment } from '@app/dhan/types';\nexport { OrderStatus } from './order-status';\n",
    allowed:
      "export { RiskService } from '../risk/risk.service';\nexport { ExchangeSegment } from '@app/dhan/types';\n",
  };
  let results: Map<string, LintMessage[]>;

  beforeAll(async () => {
    for (const [name, file] of Object.entries(fixtures)) {
      fs.writeFileSync(path.join(root, file), sources[name]);
    }
    try {
      const eslint = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');
      const files = Object.values(fixtures);
      const { stdout } = await run(process.execPath, [eslint, '--format', 'json', ...files], {
        cwd: root,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '[]' }));
      const parsed = JSON.parse(stdout) as LintResult[];
      results = new Map(
        parsed.map((r) => [path.relative(root, r.filePath).split(path.sep).join('/'), r.messages]),
      );
    } finally {
      for (const file of Object.values(fixtures)) fs.rmSync(path.join(root, file), { force: true });
    }
  });

  const boundaryMessages = (name: string): string[] =>
    (results.get(fixtures[name]) ?? [])
      .filter((m) => m.ruleId === 'boundaries/module-boundaries')
      .map((m) => m.message);

  it('fails a library that imports the application', () => {
    expect(boundaryMessages('libImportsApp')).toEqual([
      expect.stringMatching(/libs\/dhan must not import the application/),
    ]);
  });

  it('fails a library that reaches another library by path instead of its alias', () => {
    expect(boundaryMessages('libByPath')).toEqual([
      expect.stringMatching(/through its @app alias/),
    ]);
  });

  it("fails a module that reaches into another module's entities", () => {
    expect(boundaryMessages('moduleInternals')).toEqual([
      expect.stringMatching(/src\/execution must not reach into another module's internals/),
    ]);
  });

  it('fails application code that imports test code', () => {
    expect(boundaryMessages('appImportsTest')).toEqual([
      expect.stringMatching(/must not import test code/),
    ]);
  });

  it('fails the trading kernel when it imports a framework or an application module', () => {
    expect(boundaryMessages('kernelImportsFramework')).toEqual([
      expect.stringMatching(/framework-free kernel.*@nestjs\/common/),
      expect.stringMatching(/framework-free kernel.*risk\.service/),
    ]);
  });

  it("passes a module that uses another module's service and a library's alias", () => {
    expect(results.get(fixtures.allowed)).toEqual([]);
  });
});
