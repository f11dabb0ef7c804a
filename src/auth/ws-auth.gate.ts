import type { IncomingMessage } from 'node:http';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { GraphQLError, type GraphQLFieldResolver, type GraphQLFormattedError } from 'graphql';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { toPublicError } from '../common/errors/public-error';
import { PushStream } from '../common/subscriptions/push-stream';
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
import {
  closeReason,
  GRAPHQL_TRANSPORT_WS,
  parseClientMessage,
  WsCloseCode,
  type ClientMessage,
} from './ws-protocol';
import {
  checkSubscribe,
  type SubscribeMessage,
  type SubscriptionSchema,
} from './ws-subscribe-check';
import {
  SubscriptionCaps,
  type SocketUsage,
  type SubscriptionLimits,
} from './ws-subscription-caps';

/** graphql-ws close codes. */
export const WS_CLOSE_FORBIDDEN = WsCloseCode.Forbidden;
export const WS_CLOSE_INIT_TIMEOUT = WsCloseCode.ConnectionInitialisationTimeout;

export interface WsGateOptions {
  /** Path of the admin endpoint: its sockets need an ADMIN user. */
  adminPath: string;
  /** Time a socket may stay open without a connection_init. */
  initTimeoutMs: number;
  /** WebSocket ping interval; a socket that did not pong since the previous ping is dropped. */
  pingIntervalMs: number;
  limits: SubscriptionLimits;
  /** Production: error messages as the HTTP edge shows them there. */
  production: boolean;
}

interface SubscriptionSlot {
  field: string;
  /** The resolver returned its stream (a later complete is Mercurius' to handle). */
  established: boolean;
  /** The client completed it before the stream was established. */
  cancelled: boolean;
}

interface Connection {
  socket: WebSocket;
  endpoint: GraphQLEndpoint;
  initReceived: boolean;
  /** Set once connection_init passed: the socket is acknowledged. */
  user?: { id: string; sessionId: string };
  /** The gate closed (or is closing) it: later frames are dropped. */
  closing: boolean;
  closed: boolean;
  /** Answered the last ping. */
  alive: boolean;
  slots: Map<string, SubscriptionSlot>;
  /** This socket's count for the caps (its slots, per root field). */
  usage: SocketUsage;
}

/** How long a connection_init verdict stays available to Mercurius' onConnect. */
const VERDICT_TTL_MS = 5_000;

/** `{ authorization: "Bearer ..." }`, also accepted as `Authorization` or inside `headers`. */
export function tokenFromConnectionParams(params: Record<string, unknown>): string | undefined {
  const headers = (params.headers ?? {}) as Record<string, unknown>;
  return bearerToken(params.authorization ?? params.Authorization ?? headers.authorization);
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { next?: unknown }).next === 'function' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/** A stream that has already ended: what a subscription the gate did not admit returns. */
function finished(): AsyncIterableIterator<never> {
  const stream = new PushStream<never>();
  stream.end();
  return stream;
}

/** A stream whose end (done, return, throw) runs `release` once. */
function releasing(
  source: AsyncIterator<unknown>,
  release: () => void,
): AsyncIterableIterator<unknown> {
  return {
    async next() {
      try {
        const result = await source.next();
        if (result.done) release();
        return result;
      } catch (error) {
        release();
        throw error;
      }
    },
    async return(value?: unknown) {
      release();
      return source.return ? source.return(value) : { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      release();
      if (source.throw) return source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const WRAPPED = Symbol('ws-gate:wrapped');

/**
 * The graphql-ws edge of both endpoints. It sees every frame of every GraphQL socket before
 * Mercurius (which implements the protocol itself) and lets through only what the protocol
 * allows, closing with graphql-ws' codes otherwise: 4400 for a malformed or unexpected
 * message, 4401 for subscribe before the connection is acknowledged, 4403 for a refused
 * connection_init (token, user, role) or when the token expires or the user/session is
 * revoked, 4408 when no connection_init arrives in time, 4409 for an id already in use, 4429
 * for a second connection_init. A subscribe is validated against the endpoint's schema and
 * charged to the socket's and the user's subscription caps (per field and in total) before
 * Mercurius starts it; refusals are `error` messages with a typed code. The slot is released
 * when the stream ends (complete from either side, error, socket close): every subscription
 * field's resolver is wrapped once so that the end of its stream is seen, whatever the order
 * in which Mercurius processes a subscribe and its complete. WebSocket pings drop a peer that
 * stops answering within two intervals.
 */
@Injectable()
export class WsAuthGate implements OnModuleDestroy {
  private readonly verdicts = new Map<string, Promise<Principal | undefined>>();
  private readonly connections = new Set<Connection>();
  private readonly bySocket = new WeakMap<WebSocket, Connection>();
  private readonly caps = new SubscriptionCaps();
  private readonly schemas = new Map<GraphQLEndpoint, SubscriptionSchema>();
  private production = true;
  private heartbeat?: NodeJS.Timeout;
  private readonly logger = new Logger(WsAuthGate.name);

  constructor(private readonly auth: AuthService) {}

  onModuleDestroy(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  async authorizeConnection(
    token: string | undefined,
    endpoint: GraphQLEndpoint,
  ): Promise<Principal | undefined> {
    if (token === undefined) return undefined;
    return this.verdicts.get(`${endpoint}:${token}`) ?? this.check(token, endpoint);
  }

  /** Open sockets by endpoint (metrics). */
  connectionsByEndpoint(): Record<GraphQLEndpoint, number> {
    const counts: Record<GraphQLEndpoint, number> = { user: 0, admin: 0 };
    for (const conn of this.connections) if (!conn.closed) counts[conn.endpoint]++;
    return counts;
  }

  /** Active subscriptions the gate accounts for (tests and metrics). */
  activeSubscriptions(userId?: string): number {
    return this.caps.active(userId);
  }

  /**
   * Called once per endpoint with its schema: subscribe documents are validated against it,
   * and each subscription field's resolver is wrapped to report the end of its stream.
   */
  registerSchema(endpoint: GraphQLEndpoint, subscriptions: SubscriptionSchema): void {
    this.schemas.set(endpoint, subscriptions);
    const type = subscriptions.schema.getSubscriptionType();
    for (const field of Object.values(type?.getFields() ?? {})) {
      const original = field.subscribe;
      if (!original || (original as { [WRAPPED]?: boolean })[WRAPPED]) continue;
      const wrapped: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) =>
        this.start(original, source, args, context, info);
      (wrapped as { [WRAPPED]?: boolean })[WRAPPED] = true;
      field.subscribe = wrapped;
    }
  }

  attach(server: WebSocketServer, options: WsGateOptions): void {
    this.caps.limits = options.limits;
    this.production = options.production;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(), options.pingIntervalMs);
    this.heartbeat.unref();
    server.on('close', () => {
      if (this.heartbeat) clearInterval(this.heartbeat);
    });
    server.on('connection', (socket: WebSocket, request: IncomingMessage) =>
      this.watch(socket, request, options),
    );
  }

  private watch(socket: WebSocket, request: IncomingMessage, options: WsGateOptions): void {
    const endpoint: GraphQLEndpoint =
      (request.url ?? '').split('?')[0] === options.adminPath ? 'admin' : 'user';
    const slots = new Map<string, SubscriptionSlot>();
    const conn: Connection = {
      socket,
      endpoint,
      initReceived: false,
      closing: false,
      closed: false,
      alive: true,
      slots,
      usage: { total: () => slots.size, perField: new Map() },
    };
    this.connections.add(conn);
    this.bySocket.set(socket, conn);
    socket.on('pong', () => {
      conn.alive = true;
    });

    // Mercurius would also accept the deprecated subscriptions-transport-ws protocol, whose
    // messages the gate does not screen: the gate closes such a socket first.
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS) {
      this.close(conn, WsCloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    }

    let expiryTimer: NodeJS.Timeout | undefined;
    const initTimer = setTimeout(
      () =>
        this.close(
          conn,
          WsCloseCode.ConnectionInitialisationTimeout,
          'Connection initialisation timeout',
        ),
      options.initTimeoutMs,
    );
    socket.once('close', () => {
      clearTimeout(initTimer);
      if (expiryTimer) clearTimeout(expiryTimer);
      this.forget(conn);
    });

    // Every frame passes the gate first; only what it returns reaches Mercurius' listener.
    const emit = socket.emit.bind(socket) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    (socket as { emit: (event: string | symbol, ...args: unknown[]) => boolean }).emit = (
      event,
      ...args
    ) => {
      if (event !== 'message') return emit(event, ...args);
      let forward: string | undefined;
      try {
        forward = this.screen(conn, args[0] as RawData, (token) => {
          clearTimeout(initTimer);
          return this.authorize(conn, token, (principal) => {
            expiryTimer = setTimeout(
              () => this.close(conn, WsCloseCode.Forbidden, 'Access token expired'),
              Math.max(0, principal.expiresAt * 1000 - Date.now()),
            );
          });
        });
      } catch (error) {
        // A fault of ours must not escape into ws' frame parser (it would end the process).
        this.logger.error(
          `WebSocket frame handling failed: ${String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
        this.close(conn, WsCloseCode.InternalServerError, 'Internal server error');
        return false;
      }
      if (forward === undefined) return false;
      return emit('message', Buffer.from(forward), false);
    };

    // Mercurius answers a failed start with an `error` message; the slot of a subscription
    // whose stream was never established is released then.
    const send = socket.send.bind(socket) as (...args: unknown[]) => void;
    (socket as { send: (...args: unknown[]) => void }).send = (data, ...rest) => {
      if (typeof data === 'string' && data.startsWith('{"type":"error"'))
        this.onErrorSent(conn, data);
      send(data, ...rest);
    };
  }

  /**
   * Decides what one frame becomes: the text handed to Mercurius, or nothing (dropped, refused
   * with an `error` message, or the socket closed).
   */
  private screen(
    conn: Connection,
    data: RawData,
    onInit: (token: string | undefined) => void,
  ): string | undefined {
    if (conn.closing) return undefined;
    let message: ClientMessage;
    try {
      message = parseClientMessage(textOf(data));
    } catch {
      this.close(conn, WsCloseCode.BadRequest, 'Invalid message received');
      return undefined;
    }
    switch (message.type) {
      case 'connection_init': {
        if (conn.initReceived) {
          this.close(
            conn,
            WsCloseCode.TooManyInitialisationRequests,
            'Too many initialisation requests',
          );
          return undefined;
        }
        conn.initReceived = true;
        const token = message.payload ? tokenFromConnectionParams(message.payload) : undefined;
        onInit(token);
        if (conn.closing) return undefined;
        // Only the token goes on: Mercurius keeps connection params for the socket's life.
        return JSON.stringify({
          type: 'connection_init',
          payload: { authorization: `Bearer ${token}` },
        });
      }
      case 'ping':
      case 'pong':
        return JSON.stringify({ type: message.type });
      case 'subscribe': {
        if (!conn.user) {
          this.close(conn, WsCloseCode.Unauthorized, 'Unauthorized');
          return undefined;
        }
        if (conn.slots.has(message.id)) {
          this.close(
            conn,
            WsCloseCode.SubscriberAlreadyExists,
            closeReason(`Subscriber for ${message.id} already exists`, 'Subscriber already exists'),
          );
          return undefined;
        }
        return this.admit(conn, conn.user.id, message);
      }
      case 'complete': {
        const slot = conn.slots.get(message.id);
        if (!slot) return undefined;
        if (!slot.established) slot.cancelled = true;
        return JSON.stringify({ type: 'complete', id: message.id });
      }
    }
  }

  /** Checks a subscribe against the schema and the caps; charges its slot when admitted. */
  private admit(conn: Connection, userId: string, message: SubscribeMessage): string | undefined {
    const checked = checkSubscribe(this.schemas.get(conn.endpoint), message);
    if (!('field' in checked)) {
      this.sendErrors(conn, message.id, checked);
      return undefined;
    }
    const refusal = this.caps.refusal(conn.usage, userId, checked.field);
    if (refusal) {
      this.sendErrors(conn, message.id, [
        new GraphQLError(refusal.message, { originalError: refusal }),
      ]);
      return undefined;
    }
    this.caps.charge(conn.usage, userId, checked.field, 1);
    conn.slots.set(message.id, { field: checked.field, established: false, cancelled: false });
    return checked.forward;
  }

  private release(conn: Connection, id: string, slot: SubscriptionSlot): void {
    if (conn.slots.get(id) !== slot) return;
    conn.slots.delete(id);
    if (conn.user) this.caps.charge(conn.usage, conn.user.id, slot.field, -1);
  }

  /** The wrapped `subscribe` of every subscription field: sees its stream start and end. */
  private async start(
    original: GraphQLFieldResolver<unknown, unknown>,
    source: unknown,
    args: Record<string, unknown>,
    context: unknown,
    info: Parameters<GraphQLFieldResolver<unknown, unknown>>[3],
  ): Promise<unknown> {
    const { socket, id } = (context ?? {}) as { socket?: WebSocket; id?: unknown };
    const conn = socket ? this.bySocket.get(socket) : undefined;
    const key = String(id);
    const slot = conn?.slots.get(key);
    // Not admitted by the gate (or already ended): nothing may start.
    if (!conn || !slot || slot.cancelled || conn.closed) {
      if (conn && slot) this.release(conn, key, slot);
      return finished();
    }
    if (slot.field !== info.fieldName && conn.user) {
      this.caps.charge(conn.usage, conn.user.id, slot.field, -1);
      slot.field = info.fieldName;
      this.caps.charge(conn.usage, conn.user.id, slot.field, 1);
    }
    let stream: unknown;
    try {
      stream = await original(source, args, context, info);
    } catch (error) {
      this.release(conn, key, slot);
      throw error;
    }
    if (!isAsyncIterator(stream)) {
      this.release(conn, key, slot);
      return stream;
    }
    if (slot.cancelled || conn.closed || conn.slots.get(key) !== slot) {
      this.release(conn, key, slot);
      await stream.return?.();
      return finished();
    }
    slot.established = true;
    return releasing(stream, () => this.release(conn, key, slot));
  }

  private onErrorSent(conn: Connection, data: string): void {
    let id: unknown;
    try {
      id = (JSON.parse(data) as { id?: unknown }).id;
    } catch {
      return;
    }
    if (typeof id !== 'string') return;
    const slot = conn.slots.get(id);
    if (slot && !slot.established) this.release(conn, id, slot);
  }

  private sendErrors(conn: Connection, id: string, errors: readonly GraphQLError[]): void {
    const payload: GraphQLFormattedError[] = errors.map((error) =>
      toPublicError(error, this.production),
    );
    if (conn.socket.readyState === conn.socket.OPEN) {
      conn.socket.send(JSON.stringify({ id, type: 'error', payload }));
    }
  }

  private authorize(
    conn: Connection,
    token: string | undefined,
    onAccepted: (principal: Principal) => void,
  ): void {
    if (token === undefined) {
      this.close(conn, WsCloseCode.Forbidden, 'Forbidden');
      return;
    }
    const key = `${conn.endpoint}:${token}`;
    const verdict = this.check(token, conn.endpoint).then((principal) => {
      if (!principal) {
        this.close(conn, WsCloseCode.Forbidden, 'Forbidden');
      } else if (!conn.closing && conn.socket.readyState === conn.socket.OPEN) {
        conn.user = { id: principal.id, sessionId: principal.sessionId };
        onAccepted(principal);
      }
      return principal;
    });
    this.verdicts.set(key, verdict);
    setTimeout(() => {
      if (this.verdicts.get(key) === verdict) this.verdicts.delete(key);
    }, VERDICT_TTL_MS).unref();
  }

  private close(conn: Connection, code: number, reason: string): void {
    conn.closing = true;
    if (
      conn.socket.readyState === conn.socket.OPEN ||
      conn.socket.readyState === conn.socket.CONNECTING
    ) {
      conn.socket.close(code, reason);
    }
  }

  /** Socket closed: every slot it held is released (Mercurius ends the streams). */
  private forget(conn: Connection): void {
    conn.closing = true;
    conn.closed = true;
    this.connections.delete(conn);
    for (const [id, slot] of [...conn.slots]) this.release(conn, id, slot);
  }

  /** Pings every socket; one that did not pong since the previous ping is terminated. */
  private beat(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.closing = true;
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.socket.ping();
      } catch {
        // Not open (yet or any more): its close handler forgets it.
      }
    }
  }

  /** A disabled user loses every stream at once; a demoted one loses the admin endpoint. */
  @OnEvent(USER_CHANGED)
  onUserChanged(event: UserChangedEvent): void {
    for (const conn of this.connections) {
      if (conn.user?.id !== event.userId) continue;
      if (event.disabled || (conn.endpoint === 'admin' && event.role !== Role.ADMIN)) {
        this.close(conn, WsCloseCode.Forbidden, 'Access revoked');
      }
    }
  }

  /** Logout or refresh-token reuse ends the streams of that session too. */
  @OnEvent(SESSION_REVOKED)
  onSessionRevoked(event: SessionRevokedEvent): void {
    for (const conn of this.connections) {
      if (conn.user?.sessionId === event.sessionId) {
        this.close(conn, WsCloseCode.Forbidden, 'Session ended');
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
