import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphqlError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: GraphqlError[];
}

/** POSTs one operation (or any raw body) and returns the status and parsed JSON. */
export async function postGraphql<T = Record<string, unknown>>(
  url: string,
  body: unknown,
  token?: string,
): Promise<GraphqlResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Omit<GraphqlResponse<T>, 'status'>;
  return { status: response.status, ...json };
}

export function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphqlResponse<T>> {
  return postGraphql<T>(url, { query, variables }, token);
}

export function errorCodes(response: GraphqlResponse<unknown>): (string | undefined)[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

export interface SessionPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: { id: string; username: string; role: string };
}

export const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) {
    accessToken refreshToken expiresAt user { id username role }
  }
}`;

export async function login(url: string, username: string, password: string) {
  const response = await gql<{ login: SessionPayload }>(url, LOGIN, { username, password });
  if (!response.data?.login) {
    throw new Error(`login failed: ${JSON.stringify(response.errors)}`);
  }
  return response.data.login;
}

const CREATE_USER = `mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }`;

/** Creates a USER through the admin schema (as `adminToken`) and logs it in. */
export async function createUser(
  urls: { adminUrl: string; graphqlUrl: string },
  adminToken: string,
  username: string,
  password: string,
): Promise<{ id: string; token: string }> {
  const created = await gql<{ createUser: { id: string } }>(
    urls.adminUrl,
    CREATE_USER,
    { input: { username, password, role: 'USER' } },
    adminToken,
  );
  if (!created.data?.createUser) {
    throw new Error(`createUser failed: ${JSON.stringify(created.errors)}`);
  }
  const { accessToken } = await login(urls.graphqlUrl, username, password);
  return { id: created.data.createUser.id, token: accessToken };
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface SubscriptionProbe {
  client: Client;
  /** Every `next` payload received, in order. */
  received: unknown[];
  /** Resolves when the server acknowledged connection_init. */
  connected: Promise<void>;
  /** Resolves with the first payload. */
  firstValue: Promise<unknown>;
  /** Resolves when the socket closes, with its close code. */
  closed: Promise<CloseInfo>;
  /** Resolves when the subscription ends with an error (or a close) instead of data. */
  failed: Promise<unknown>;
  dispose(): Promise<void>;
}

/** Opens a graphql-ws connection over a real socket and subscribes once. */
export function subscribe(
  url: string,
  query: string,
  connectionParams: Record<string, unknown> | undefined,
): SubscriptionProbe {
  let resolveClosed!: (info: CloseInfo) => void;
  let resolveConnected!: () => void;
  const connected = new Promise<void>((resolve) => (resolveConnected = resolve));
  const closed = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    shouldRetry: () => false,
    on: {
      connected: () => resolveConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: unknown };
        resolveClosed({ code, reason: String(reason ?? '') });
      },
    },
    onNonLazyError: () => undefined,
  });
  const received: unknown[] = [];
  let resolveFirst!: (value: unknown) => void;
  let resolveFailed!: (value: unknown) => void;
  const firstValue = new Promise<unknown>((resolve) => (resolveFirst = resolve));
  const failed = new Promise<unknown>((resolve) => (resolveFailed = resolve));
  client.subscribe(
    { query },
    {
      next: (value) => {
        received.push(value);
        resolveFirst(value);
      },
      error: (error) => resolveFailed(error),
      complete: () => resolveFailed(new Error('completed')),
    },
  );
  return {
    client,
    received,
    connected,
    firstValue,
    closed,
    failed,
    dispose: async () => {
      await client.dispose();
    },
  };
}
