import type { FastifyReply, FastifyRequest } from 'fastify';

export type GraphQLEndpoint = 'user' | 'admin';

/** The authenticated caller, as resolvers and guards see it. */
export interface Principal {
  id: string;
  username: string;
  role: string;
  /** Refresh-token family of the login this access token belongs to. */
  sessionId: string;
  /** Access token expiry, seconds since the epoch. */
  expiresAt: number;
}

/** Context of an HTTP operation and of a subscription (both endpoints). */
export interface GraphQLRequestContext {
  endpoint: GraphQLEndpoint;
  /** HTTP operations only. */
  req?: FastifyRequest;
  reply?: FastifyReply;
  /** Subscriptions: the token presented in connection_init. */
  accessToken?: string;
  /** Set by the auth guard (HTTP) or at connection_init (WebSocket). */
  user?: Principal;
}
