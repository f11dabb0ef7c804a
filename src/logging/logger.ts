import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { ServerConfig } from '../config/app-config';

/** Paths pino replaces with [REDACTED] wherever they appear in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  '*.authorization',
  '*.password',
  '*.passwordHash',
  '*.accessToken',
  '*.refreshToken',
  '*.token',
  '*.secret',
  '*.jwtSecret',
  'password',
  'accessToken',
  'refreshToken',
  'token',
  'secret',
];

const SECRET_QUERY_PARAMS =
  /([?&](?:token|access_token|accessToken|refreshToken|authorization|password|secret)=)[^&#]*/gi;

/** Tokens never belong in a URL, but a client may still put one there: keep it out of logs. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[REDACTED]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/** Fastify's request fields, with secrets in the query string redacted. */
function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** The one pino instance: Fastify logs requests with it and Nest's logger writes through it. */
export function createLogger(
  server: Pick<ServerConfig, 'logLevel'>,
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level: server.logLevel,
    base: { service: 'broking-terminal-server' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    // Fastify keeps serializers of the instance it is given over its own defaults.
    serializers: { req: serializeRequest, err: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}

type Message = unknown;

/** Nest's LoggerService on top of pino: one JSON stream, `context` as a field. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: Message, context?: string): void {
    this.write('info', message, context);
  }
  error(message: Message, traceOrContext?: string, context?: string): void {
    const ctx = context ?? traceOrContext;
    const trace = context !== undefined ? traceOrContext : undefined;
    if (message instanceof Error) {
      this.logger.error({ context: ctx, err: message }, message.message);
    } else if (trace !== undefined) {
      this.logger.error({ context: ctx, stack: trace }, String(message));
    } else {
      this.write('error', message, ctx);
    }
  }
  warn(message: Message, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: Message, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: Message, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: Message, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: pino.Level, message: Message, context?: string): void {
    if (typeof message === 'object' && message !== null && !(message instanceof Error)) {
      const { msg, ...fields } = message as Record<string, unknown>;
      this.logger[level]({ context, ...fields }, typeof msg === 'string' ? msg : undefined);
    } else if (message instanceof Error) {
      this.logger[level]({ context, err: message }, message.message);
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}
