import * as fs from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/decorators/public.decorator';
import { GRAPHIQL_CSP, GRAPHIQL_PAGE_CSS, GRAPHIQL_START_JS, graphiqlPage } from './graphiql-page';

export const GRAPHIQL_PATHS = { user: '/graphiql', admin: '/admin/graphiql' } as const;
const ASSETS = '/graphiql/assets';

interface Asset {
  type: string;
  body: Buffer;
}

/** A file of an installed package (its UMD build), read once: nothing comes from a CDN. */
function packageFile(pkg: string, file: string): Buffer {
  const root = path.dirname(require.resolve(`${pkg}/package.json`));
  return fs.readFileSync(path.join(root, file));
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

function loadAssets(): ReadonlyMap<string, Asset> {
  return new Map<string, Asset>([
    [
      'react.production.min.js',
      { type: JS, body: packageFile('react', 'umd/react.production.min.js') },
    ],
    [
      'react-dom.production.min.js',
      { type: JS, body: packageFile('react-dom', 'umd/react-dom.production.min.js') },
    ],
    ['graphql-ws.min.js', { type: JS, body: packageFile('graphql-ws', 'umd/graphql-ws.min.js') }],
    ['graphiql.min.js', { type: JS, body: packageFile('graphiql', 'graphiql.min.js') }],
    ['graphiql.min.css', { type: CSS, body: packageFile('graphiql', 'graphiql.min.css') }],
    ['page.css', { type: CSS, body: Buffer.from(GRAPHIQL_PAGE_CSS) }],
    ['start.js', { type: JS, body: Buffer.from(GRAPHIQL_START_JS) }],
  ]);
}

const USER_QUERY = `# GraphiQL on the user schema. Run Login with your password: its accessToken fills the
# token field above, which then goes with every request (HTTP Authorization header) and
# every subscription (WebSocket connection_init). Docs (top left) lists the whole schema.
mutation Login {
  login(username: "admin", password: "PASSWORD") {
    accessToken
    user { username role }
  }
}

query Me {
  me { id username role }
}

subscription ServerTime {
  serverTime
}
`;

const ADMIN_QUERY = `# GraphiQL on the admin schema: paste an ADMIN's accessToken in the field above (log in
# at /graphiql); the schema and its docs load once the token is set.
query Users {
  users { id username role disabled }
}
`;

/**
 * GraphiQL at /graphiql (user schema) and /admin/graphiql (admin schema), outside production
 * only (AppModule leaves this module out there). The page and its assets need no token; the
 * operations it sends are checked as any other.
 */
@Public()
@Controller()
export class GraphiqlController {
  private readonly assets = loadAssets();

  @Get(GRAPHIQL_PATHS.user)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', GRAPHIQL_CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  @Header('cache-control', 'no-store')
  userPage(): string {
    return graphiqlPage({
      endpoint: '/graphql',
      title: 'GraphiQL · broking-terminal-server (user)',
      assets: ASSETS,
      defaultQuery: USER_QUERY,
    });
  }

  @Get(GRAPHIQL_PATHS.admin)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', GRAPHIQL_CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  @Header('cache-control', 'no-store')
  adminPage(): string {
    return graphiqlPage({
      endpoint: '/admin/graphql',
      title: 'GraphiQL · broking-terminal-server (admin)',
      assets: ASSETS,
      defaultQuery: ADMIN_QUERY,
    });
  }

  @Get(`${ASSETS}/:name`)
  asset(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException();
    reply.header('content-type', asset.type);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'public, max-age=3600');
    return asset.body;
  }
}
