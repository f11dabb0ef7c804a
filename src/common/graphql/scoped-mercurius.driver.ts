import { Injectable } from '@nestjs/common';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';

type HookMap = Record<string, unknown>;

/** Driver options: Mercurius's, plus a setup of the endpoint's own Fastify scope (hooks). */
export type ScopedMercuriusConfig = MercuriusDriverConfig & {
  scopeSetup?: (scope: FastifyInstance) => void;
};

/**
 * The stock driver registers Mercurius on the root Fastify instance, so a second GraphQL
 * endpoint fails ("decorator 'graphql' has already been added"). This one gives each
 * GraphQLModule its own encapsulated Fastify scope: one schema, path, context and hooks each.
 * @fastify/websocket must be registered once on the root beforehand (see bootstrap), so both
 * scopes share one upgrade handler.
 */
@Injectable()
export class ScopedMercuriusDriver extends MercuriusDriver {
  override async start(options: ScopedMercuriusConfig): Promise<void> {
    const { plugins, hooks, scopeSetup, ...mercuriusOptions } = options;
    const httpAdapter = this.httpAdapterHost.httpAdapter;
    if (httpAdapter.getType() !== 'fastify') {
      throw new Error(
        `ScopedMercuriusDriver needs the Fastify adapter, not ${httpAdapter.getType()}`,
      );
    }
    const app = httpAdapter.getInstance<FastifyInstance>();
    // '/admin/graphql' becomes prefix '/admin' + path '/graphql', so that each endpoint's
    // GraphiQL page (fixed at '<prefix>/graphiql') gets its own route too.
    const fullPath = mercuriusOptions.path ?? '/graphql';
    const cut = fullPath.lastIndexOf('/');
    const prefix = fullPath.slice(0, cut);
    const ownOptions = { ...mercuriusOptions, path: fullPath.slice(cut) };
    await app.register(
      async (scope) => {
        scopeSetup?.(scope);
        await scope.register(mercurius, ownOptions);
        for (const plugin of plugins ?? []) {
          await scope.register(plugin.plugin, plugin.options ?? {});
        }
        for (const [name, hook] of Object.entries((hooks ?? {}) as HookMap)) {
          const list = Array.isArray(hook)
            ? hook
            : hook === undefined || hook === null
              ? []
              : [hook];
          for (const fn of list) {
            (scope.graphql.addHook as (name: string, fn: unknown) => void)(name, fn);
          }
        }
      },
      { prefix },
    );
  }
}
