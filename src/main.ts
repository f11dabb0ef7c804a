import 'reflect-metadata';
import type { ResolvedAppConfig } from './config/app-config';
import { resolveSecrets } from './config/resolve-secrets';
import { ConfigValidationError, validateConfig } from './config/validate-config';
import { marketDataSource } from './dhan/dhan-endpoints';

function loadConfig(): ResolvedAppConfig {
  try {
    return resolveSecrets(validateConfig(process.env));
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Where market data comes from, as the start-up banner says it. */
function marketDataLabel(data: ReturnType<typeof marketDataSource>): string {
  if (data.source === 'DhanHQ') return 'DhanHQ live';
  if (data.source === 'external stand-in') {
    return `external simulator at ${data.host} (DHAN_* URLs are not DhanHQ's)`;
  }
  return 'built-in simulator';
}

/** Where orders go, as the start-up banner says it (ExecutionModule's chooseGateway decides). */
function executionLabel(data: ReturnType<typeof marketDataSource>, mode: string): string {
  if (data.source === 'built-in simulator') return 'orders go to the built-in simulator';
  const broker = data.source === 'DhanHQ' ? 'DhanHQ' : 'the external simulator';
  return mode === 'live' ? `LIVE orders to ${broker}` : 'paper, filled against live prices';
}

async function main(): Promise<void> {
  // Configuration is checked before the framework loads, so a bad value fails in milliseconds.
  const config = loadConfig();
  const { connectionInfo, createApp } = await import('./bootstrap');
  const { AdminBootstrapService } = await import('./auth/admin-bootstrap.service');

  const app = await createApp(config);
  await app.listen({ port: config.server.port, host: config.server.host });

  const urls = connectionInfo(app);
  const data = marketDataSource(config.dhan);
  const lines = [
    '',
    `broking-terminal-server is up (${config.embedded ? 'embedded default' : 'configured'}; ` +
      `market data: ${marketDataLabel(data)}; ` +
      `execution: ${executionLabel(data, config.execution.mode)})`,
    `  GraphQL (user):  ${urls.graphqlUrl}`,
    `  GraphQL (admin): ${urls.adminUrl}`,
    `  WebSocket:       ${urls.websocketUrl}  (graphql-transport-ws; token in connection_init)`,
  ];
  // The web terminal (src/web) right under the headline: it is where a person starts.
  const webUrl = urls.graphqlUrl.replace(/graphql$/, '');
  lines.splice(2, 0, `  Web terminal:    ${webUrl}  (operator view: ${webUrl}admin)`);
  if (!config.server.production) {
    const base = urls.graphqlUrl.replace(/\/graphql$/, '');
    lines.push(`  GraphiQL:        ${base}/graphiql  (admin schema: ${base}/admin/graphiql)`);
  }
  const generated = app.get(AdminBootstrapService).takeGeneratedCredentials();
  if (generated) {
    lines.push(
      '',
      '  First run: an admin was created. This password is shown ONCE; store it now:',
      `    username: ${generated.username}`,
      `    password: ${generated.password}`,
    );
  }
  console.log(lines.join('\n') + '\n');
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`Boot failed: ${message.split('\n')[0]}`);
  process.exit(1);
});
