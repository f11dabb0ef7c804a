import { createClient, type Client } from 'graphql-ws';

/** The two GraphQL endpoints of the server (same origin as the page). */
export type Endpoint = '/graphql' | '/admin/graphql';

interface GraphqlErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** A refused request as a user reads it: the server's message and its code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get display(): string {
    return this.code ? `${this.message} (${this.code})` : this.message;
  }
}

function fromGraphqlError(error: GraphqlErrorShape): ApiError {
  return new ApiError(error.message, error.extensions?.code, error.extensions ?? {});
}

/** graphql-ws hands its error sink GraphQL errors, a CloseEvent or an Error. */
function fromSocketError(error: unknown): ApiError {
  if (Array.isArray(error) && error.length > 0)
    return fromGraphqlError(error[0] as GraphqlErrorShape);
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    const { code, reason } = error as { code: number; reason: string };
    return new ApiError(`Connection closed: ${reason || code}`, `SOCKET_${code}`);
  }
  return new ApiError(error instanceof Error ? error.message : String(error), undefined);
}

export interface SessionUser {
  id: string;
  username: string;
  role: 'ADMIN' | 'USER';
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: SessionUser;
}

const SESSION_KEY = 'broking-terminal.session';
const SESSION_FIELDS = 'accessToken refreshToken expiresAt user { id username role }';
const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { ${SESSION_FIELDS} }
}`;
const REFRESH = `mutation Refresh($refreshToken: String!) {
  refreshSession(refreshToken: $refreshToken) { ${SESSION_FIELDS} }
}`;

function storedSession(): Session | null {
  try {
    const text = sessionStorage.getItem(SESSION_KEY);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
}

export interface Sink<T> {
  next(data: T): void;
  error?(error: ApiError): void;
}

/**
 * The pages' GraphQL client: queries and mutations over HTTP POST, subscriptions over one
 * graphql-ws (graphql-transport-ws) socket per endpoint, the access token in the Authorization
 * header and in connection_init. The session lives in sessionStorage (this tab only) and is
 * refreshed before the access token expires.
 */
export class Api {
  private session: Session | null = storedSession();
  private readonly sockets = new Map<Endpoint, Client>();
  private refreshTimer: number | undefined;
  private readonly listeners = new Set<(session: Session | null) => void>();

  constructor() {
    this.scheduleRefresh();
  }

  get user(): SessionUser | null {
    return this.session?.user ?? null;
  }

  onSession(listener: (session: Session | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async login(username: string, password: string): Promise<void> {
    const data = await this.post<{ login: Session }>(
      '/graphql',
      LOGIN,
      { username, password },
      null,
    );
    this.setSession(data.login);
  }

  async logout(): Promise<void> {
    try {
      await this.request('/graphql', 'mutation { logout }');
    } catch {
      // The session ends here whatever the server said.
    }
    this.setSession(null);
  }

  async request<T>(
    endpoint: Endpoint,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    try {
      return await this.post<T>(endpoint, query, variables, this.session?.accessToken ?? null);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED' && this.session) {
        await this.refresh();
        return this.post<T>(endpoint, query, variables, this.session?.accessToken ?? null);
      }
      throw error;
    }
  }

  /** Subscribes over the endpoint's socket; returns the unsubscribe function. */
  subscribe<T>(
    endpoint: Endpoint,
    query: string,
    variables: Record<string, unknown>,
    sink: Sink<T>,
  ): () => void {
    return this.socket(endpoint).subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors?.length)
            sink.error?.(fromGraphqlError(result.errors[0] as GraphqlErrorShape));
          else if (result.data) sink.next(result.data as T);
        },
        error: (error) => sink.error?.(fromSocketError(error)),
        complete: () => undefined,
      },
    );
  }

  private async post<T>(
    endpoint: Endpoint,
    query: string,
    variables: Record<string, unknown>,
    token: string | null,
  ): Promise<T> {
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiError('The server cannot be reached', 'NETWORK');
    }
    let body: { data?: T | null; errors?: GraphqlErrorShape[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new ApiError(`The server answered ${response.status}`, `HTTP_${response.status}`);
    }
    if (body.errors?.length) throw fromGraphqlError(body.errors[0]);
    if (!body.data)
      throw new ApiError(`The server answered ${response.status}`, `HTTP_${response.status}`);
    return body.data;
  }

  private socket(endpoint: Endpoint): Client {
    let client = this.sockets.get(endpoint);
    if (!client) {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      client = createClient({
        url: `${scheme}://${location.host}${endpoint}`,
        // Read at every (re)connect: a refreshed token is used from then on.
        connectionParams: () => ({ authorization: `Bearer ${this.session?.accessToken ?? ''}` }),
        lazy: true,
        retryAttempts: 20,
        // Refused (4401/4403) or malformed: retrying cannot help.
        shouldRetry: (event) => {
          const code = (event as { code?: number }).code;
          return code === undefined || code < 4400 || code > 4499;
        },
      });
      this.sockets.set(endpoint, client);
    }
    return client;
  }

  private setSession(session: Session | null): void {
    const tokenChanged = this.session?.accessToken !== session?.accessToken;
    const userChanged = this.session?.user.id !== session?.user.id;
    this.session = session;
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
    if (userChanged || (tokenChanged && !session)) {
      for (const client of this.sockets.values()) void client.dispose();
      this.sockets.clear();
    }
    this.scheduleRefresh();
    for (const listener of this.listeners) listener(session);
  }

  private scheduleRefresh(): void {
    window.clearTimeout(this.refreshTimer);
    if (!this.session) return;
    const due = new Date(this.session.expiresAt).getTime() - Date.now() - 60_000;
    this.refreshTimer = window.setTimeout(() => void this.refresh(), Math.max(due, 5_000));
  }

  private async refresh(): Promise<void> {
    const refreshToken = this.session?.refreshToken;
    if (!refreshToken) return;
    try {
      const data = await this.post<{ refreshSession: Session }>(
        '/graphql',
        REFRESH,
        { refreshToken },
        null,
      );
      this.setSession(data.refreshSession);
    } catch {
      this.setSession(null);
    }
  }
}
