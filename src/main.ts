import 'reflect-metadata';
import { AdminBootstrapService } from './auth/admin-bootstrap.service';
import { connectionInfo, createApp } from './bootstrap';
import { resolveSecrets } from './config/resolve-secrets';
import { ConfigValidationError, validateConfig } from './config/validate-config';
import type { ResolvedAppConfig } from './config/app-config';

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

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen({ port: config.server.port, host: config.server.host });

  const urls = connectionInfo(app);
  const lines = [
    '',
    `broking-terminal-server is up (${config.embedded ? 'embedded default' : 'configured'}; market data: ${config.dhan.live ? 'DhanHQ live' : 'built-in simulator'}; execution: ${config.execution.mode})`,
    `  GraphQL (user):  ${urls.graphqlUrl}`,
    `  GraphQL (admin): ${urls.adminUrl}`,
    `  WebSocket:       ${urls.websocketUrl}  (graphql-transport-ws; token in connection_init)`,
  ];
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
  console.error(
    `Boot failed: ${error instanceof Error ? error.message : String(error)}`.split('\n')[0],
  );
  process.exit(1);
});
