import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { WebSocket, WebSocketServer } from 'ws';
import type { GraphQLEndpoint, Principal } from '../common/graphql/graphql-context';
import {
  SESSION_REVOKED,
  SessionRevokedEvent,
  USER_CHANGED,
  UserChangedEvent,
} from './auth.events';
import { AuthService } from './auth.service';
import { bearerToken } from './auth.guard';
import { Role } from './role.enum';

/** graphql-ws close codes. */
export const WS_CLOSE_FORBIDDEN = 4403;
export const WS_CLOSE_INIT_TIMEOUT = 4408;

export interface WsGateOptions {
  /** Path of the admin endpoint: its sockets need an ADMIN user. */
  adminPath: string;
  /** Time a socket may stay open without a connection_init. */
  initTimeoutMs: number;
}

interface OpenSocket {
  socket: WebSocket;
  endpoint: GraphQLEndpoint;
  userId: string;
  sessionId: string;
}

/** How long a connection_init verdict stays available to Mercurius' onConnect. */
const VERDICT_TTL_MS = 5_000;

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
  return tokenFromConnectionParams(payload as Record<string, unknown>);
}

/** `{ authorization: "Bearer ..." }`, also accepted as `Authorization` or inside `headers`. */
export function tokenFromConnectionParams(params: Record<string, unknown>): string | undefined {
  const headers = (params.headers ?? {}) as Record<string, unknown>;
  return bearerToken(params.authorization ?? params.Authorization ?? headers.authorization);
}

/**
 * Authentication of GraphQL WebSockets, for both endpoints. It watches every socket beside
 * Mercurius: the first message must be a connection_init whose token and user pass (else close
 * 4403 before Mercurius answers), the socket is closed with 4403 when that token expires, and
 * with 4408 when no connection_init arrives in time. Mercurius' onConnect reuses the verdict
 * (authorizeConnection), so both always agree and the close always comes first.
 */
@Injectable()
export class WsAuthGate {
  private readonly verdicts = new Map<string, Promise<Principal | undefined>>();
  private readonly open = new Set<OpenSocket>();

  constructor(private readonly auth: AuthService) {}

  async authorizeConnection(
    token: string | undefined,
    endpoint: GraphQLEndpoint,
  ): Promise<Principal | undefined> {
    if (token === undefined) return undefined;
    return this.verdicts.get(`${endpoint}:${token}`) ?? this.check(token, endpoint);
  }

  attach(server: WebSocketServer, options: WsGateOptions): void {
    server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
      const endpoint: GraphQLEndpoint =
        (request.url ?? '').split('?')[0] === options.adminPath ? 'admin' : 'user';
      let expiryTimer: NodeJS.Timeout | undefined;
      const initTimer = setTimeout(
        () => socket.close(WS_CLOSE_INIT_TIMEOUT, 'Connection initialisation timeout'),
        options.initTimeoutMs,
      );
      let tracked: OpenSocket | undefined;
      socket.once('close', () => {
        clearTimeout(initTimer);
        if (expiryTimer) clearTimeout(expiryTimer);
        if (tracked) this.open.delete(tracked);
      });
      socket.once('message', (data) => {
        clearTimeout(initTimer);
        const token = connectionInitToken(data);
        if (token === undefined) {
          socket.close(WS_CLOSE_FORBIDDEN, 'Forbidden');
          return;
        }
        const key = `${endpoint}:${token}`;
        const verdict = this.check(token, endpoint).then((principal) => {
          if (!principal) {
            socket.close(WS_CLOSE_FORBIDDEN, 'Forbidden');
          } else if (socket.readyState === socket.OPEN) {
            tracked = { socket, endpoint, userId: principal.id, sessionId: principal.sessionId };
            this.open.add(tracked);
            expiryTimer = setTimeout(
              () => socket.close(WS_CLOSE_FORBIDDEN, 'Access token expired'),
              Math.max(0, principal.expiresAt * 1000 - Date.now()),
            );
          }
          return principal;
        });
        this.verdicts.set(key, verdict);
        setTimeout(() => {
          if (this.verdicts.get(key) === verdict) this.verdicts.delete(key);
        }, VERDICT_TTL_MS).unref();
      });
    });
  }

  /** A disabled user loses every stream at once; a demoted one loses the admin endpoint. */
  @OnEvent(USER_CHANGED)
  onUserChanged(event: UserChangedEvent): void {
    for (const entry of this.open) {
      if (entry.userId !== event.userId) continue;
      if (event.disabled || (entry.endpoint === 'admin' && event.role !== Role.ADMIN)) {
        entry.socket.close(WS_CLOSE_FORBIDDEN, 'Access revoked');
      }
    }
  }

  /** Logout or refresh-token reuse ends the streams of that session too. */
  @OnEvent(SESSION_REVOKED)
  onSessionRevoked(event: SessionRevokedEvent): void {
    for (const entry of this.open) {
      if (entry.sessionId === event.sessionId) {
        entry.socket.close(WS_CLOSE_FORBIDDEN, 'Session ended');
      }
    }
  }

  private async check(token: string, endpoint: GraphQLEndpoint): Promise<Principal | undefined> {
    try {
      const principal = await this.auth.authenticate(token);
      return endpoint === 'admin' && principal.role !== Role.ADMIN ? undefined : principal;
    } catch {
      return undefined;
    }
  }
}
