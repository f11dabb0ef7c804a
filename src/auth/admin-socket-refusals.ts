import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { WebSocket, WebSocketServer } from 'ws';
import {
  ADMIN_ACCESS_REFUSED,
  AdminAccessRefusedEvent,
  type AdminRefusalReason,
} from './auth.events';
import { AuthService } from './auth.service';
import { Role } from './role.enum';
import { tokenFromConnectionParams } from './ws-auth.gate';

/** The bearer token of a connection_init message; undefined for anything else. */
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

/**
 * Watches sockets of the admin endpoint beside the auth gate (which closes them) and reports
 * each refused connection_init as ADMIN_ACCESS_REFUSED, for the audit log. Passive: it never
 * closes or answers a socket.
 */
@Injectable()
export class AdminSocketRefusals {
  constructor(
    private readonly auth: AuthService,
    private readonly events: EventEmitter2,
  ) {}

  attach(server: WebSocketServer, adminPath: string): void {
    server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
      if ((request.url ?? '').split('?')[0] !== adminPath) return;
      const address = request.socket.remoteAddress ?? 'unknown';
      socket.once('message', (data) => {
        void this.verdict(connectionInitToken(data)).then((refusal) => {
          if (refusal === undefined) return;
          this.events.emit(
            ADMIN_ACCESS_REFUSED,
            new AdminAccessRefusedEvent(
              refusal.reason,
              address,
              'websocket',
              'connection_init',
              refusal.actor,
            ),
          );
        });
      });
    });
  }

  private async verdict(
    token: string | undefined,
  ): Promise<
    { reason: AdminRefusalReason; actor: { id: string; username: string } | null } | undefined
  > {
    if (token === undefined) return { reason: 'missing token', actor: null };
    try {
      const principal = await this.auth.authenticate(token);
      if (principal.role === Role.ADMIN) return undefined;
      return { reason: 'not an admin', actor: { id: principal.id, username: principal.username } };
    } catch {
      return { reason: 'invalid or expired token', actor: null };
    }
  }
}
