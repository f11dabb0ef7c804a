import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fastifyWebsocket from '@fastify/websocket';
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AppModule, GRAPHQL_PATHS } from './app.module';
import { AdminSocketRefusals } from './auth/admin-socket-refusals';
import { WsAuthGate } from './auth/ws-auth.gate';
import { BadUserInputError } from './common/errors/domain-error';
import { ErrorCode } from './common/errors/error-code';
import type { ResolvedAppConfig } from './config/app-config';
import { MetricsService } from './health/metrics.service';
import { createLogger, PinoNestLogger } from './logging/logger';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
const WS_MAX_PAYLOAD_BYTES = 1024 * 1024;
const WS_INIT_TIMEOUT_MS = 10_000;
/** A refused body up to this size is read to its end before the 413 (see the onSend hook). */
const REFUSED_BODY_DRAIN_BYTES = 4 * 1024 * 1024;

/** A hop count as proxy-addr means it: trust the nearest `hops` addresses. */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/**
 * Requests the HTTP parser refuses (headers or URL too large, malformed) never reach a route;
 * they are answered as every other client mistake: a GraphQL-shaped BAD_USER_INPUT.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request headers (or URL) too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request not received in time']
        : [400, 'Malformed HTTP request'];
  const body = JSON.stringify({
    data: null,
    errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }],
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export interface CreateAppOptions {
  /** Defaults to a pino logger at the configured level on stdout. */
  logger?: Logger;
}

function validationMessage(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {}).map((text) => `${prefix}${text}`),
    ...validationMessage(error.children ?? [], `${prefix}${error.property}.`),
  ]);
}

/**
 * Builds the whole application, not yet listening: used by main.ts and by the e2e suites, so
 * tests run exactly what production runs.
 */
export async function createApp(
  config: ResolvedAppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger(config.server);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    requestIdHeader: false,
    genReqId: (request: IncomingMessage) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming)
        ? incoming
        : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    clientErrorHandler,
    trustProxy:
      typeof config.server.trustProxy === 'number'
        ? trustHops(config.server.trustProxy)
        : config.server.trustProxy,
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
    // Fastify's own parsers only (JSON, text): no form-urlencoded parser, so a cross-site form
    // cannot post a mutation (415); nothing here takes a form.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;

  // Once, on the root: both GraphQL scopes reuse it (two would both handle every upgrade).
  const allowed = new Set(config.server.allowedOrigins);
  await fastify.register(fastifyWebsocket, {
    options: {
      maxPayload: WS_MAX_PAYLOAD_BYTES,
      verifyClient: (info: { origin?: string }, next: (ok: boolean, code?: number) => void) => {
        // Browsers always send Origin; non-browser clients may not, and cannot be hijacked.
        if (allowed.size === 0 || !info.origin || allowed.has(info.origin)) next(true);
        else next(false, 403);
      },
    },
  });
  app.get(WsAuthGate).attach(fastify.websocketServer, {
    adminPath: GRAPHQL_PATHS.admin,
    initTimeoutMs: WS_INIT_TIMEOUT_MS,
    pingIntervalMs: config.websocket.pingIntervalMs,
    limits: config.websocket,
    production: config.server.production,
  });
  app.get(AdminSocketRefusals).attach(fastify.websocketServer, GRAPHQL_PATHS.admin);

  // The id of every request is given back, so a client can quote it when reporting a problem.
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // A body refused for its declared size is answered 413 before it is read, and Fastify closes
  // the connection: a client still sending then sees its write fail (EPIPE, reset) before it
  // reads the answer. Up to REFUSED_BODY_DRAIN_BYTES the rest is read and dropped instead (a
  // lingering close), so the client always gets its typed 413; a larger one is cut off.
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 413 && reply.getHeader('connection') === 'close') {
      const declared = Number(request.headers['content-length']);
      if (declared <= REFUSED_BODY_DRAIN_BYTES) reply.removeHeader('connection');
    }
    return payload;
  });

  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observeHttp(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) =>
        new BadUserInputError(validationMessage(errors).join('; ') || 'Invalid input'),
    }),
  );
  app.enableShutdownHooks();
  await app.init();
  return app;
}

export interface ConnectionInfo {
  graphqlUrl: string;
  adminUrl: string;
  websocketUrl: string;
  adminWebsocketUrl: string;
}

/** The URLs clients use, from the address the server actually listens on. */
export function connectionInfo(app: NestFastifyApplication): ConnectionInfo {
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') {
    throw new Error('The server is not listening on a TCP port');
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const base = `${host}:${address.port}`;
  return {
    graphqlUrl: `http://${base}${GRAPHQL_PATHS.user}`,
    adminUrl: `http://${base}${GRAPHQL_PATHS.admin}`,
    websocketUrl: `ws://${base}${GRAPHQL_PATHS.user}`,
    adminWebsocketUrl: `ws://${base}${GRAPHQL_PATHS.admin}`,
  };
}
