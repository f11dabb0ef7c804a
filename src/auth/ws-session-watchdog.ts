import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { bearerToken } from './auth.guard';
import { Role } from './role.enum';
import type { TokenService } from './token.service';

/** graphql-ws close codes. */
export const WS_CLOSE_FORBIDDEN = 4403;
export const WS_CLOSE_INIT_TIMEOUT = 4408;

export interface WatchdogOptions {
  /** Path of the admin endpoint: its sockets need an ADMIN token. */
  adminPath: string;
  /** Time a socket may stay open without a valid connection_init. */
  initTimeoutMs: number;
}

function connectionInitToken(data: unknown): string | undefined {
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, payload } = message as { type?: unknown; payload?: unknown };
  if (type !== 'connection_init' || typeof payload !== 'object' || payload === null) {
    return undefined;
  }
  const record = payload as Record<string, unknown>;
  const headers = (record.headers ?? {}) as Record<string, unknown>;
  return bearerToken(record.authorization ?? record.Authorization ?? headers.authorization);
}

/**
 * Watches every GraphQL WebSocket beside Mercurius: closes with 4403 a socket whose first
 * message is not a connection_init with a valid token (before Mercurius answers anything), one
 * whose token expires (timer to `exp`), and with 4408 one that never sends connection_init.
 * Mercurius' onConnect still checks the user in the database and refuses on its own.
 */
export function watchGraphqlSockets(
  server: WebSocketServer,
  tokens: TokenService,
  options: WatchdogOptions,
): void {
  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const admin = (request.url ?? '').split('?')[0] === options.adminPath;
    let expiryTimer: NodeJS.Timeout | undefined;
    const initTimer = setTimeout(
      () => socket.close(WS_CLOSE_INIT_TIMEOUT, 'Connection initialisation timeout'),
      options.initTimeoutMs,
    );
    const clear = () => {
      clearTimeout(initTimer);
      if (expiryTimer) clearTimeout(expiryTimer);
    };
    socket.once('close', clear);
    socket.once('message', (data) => {
      clearTimeout(initTimer);
      const token = connectionInitToken(data);
      let expiresAtMs: number | undefined;
      if (token !== undefined) {
        try {
          const claims = tokens.verifyAccessToken(token);
          if (!admin || claims.role === Role.ADMIN) expiresAtMs = claims.exp * 1000;
        } catch {
          expiresAtMs = undefined;
        }
      }
      if (expiresAtMs === undefined) {
        socket.close(WS_CLOSE_FORBIDDEN, 'Forbidden');
        return;
      }
      expiryTimer = setTimeout(
        () => socket.close(WS_CLOSE_FORBIDDEN, 'Access token expired'),
        Math.max(0, expiresAtMs - Date.now()),
      );
    });
  });
}
