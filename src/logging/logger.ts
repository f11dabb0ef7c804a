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
