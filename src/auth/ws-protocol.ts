import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/** Close codes of the graphql-ws protocol (`graphql-transport-ws` subprotocol). */
export const WsCloseCode = {
  BadRequest: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  SubprotocolNotAcceptable: 4406,
  ConnectionInitialisationTimeout: 4408,
  SubscriberAlreadyExists: 4409,
  TooManyInitialisationRequests: 4429,
  InternalServerError: 4500,
} as const;

/** The only subprotocol the gate speaks (Mercurius also accepts the deprecated `graphql-ws`). */
export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';

/** Longer subscription ids are refused as malformed: real clients send UUIDs. */
export const MAX_SUBSCRIPTION_ID_LENGTH = 256;

export type JsonObject = Record<string, unknown>;

/** A message a client may send, already checked against the protocol's shapes. */
export type ClientMessage =
  | { type: 'connection_init'; payload: JsonObject | undefined }
  | { type: 'ping' | 'pong' }
  | {
      type: 'subscribe';
      id: string;
      payload: { query: string; variables: JsonObject | undefined; operationName?: string };
    }
  | { type: 'complete'; id: string };

/** Thrown for a frame that is not a protocol message a client may send (close 4400). */
export class ProtocolViolation extends Error {}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Like secure-json-parse (which Mercurius applies after us): no `__proto__`, no constructor.prototype. */
function safeReviver(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new ProtocolViolation('__proto__ is not allowed');
  if (key === 'constructor' && isObject(value) && 'prototype' in value) {
    throw new ProtocolViolation('constructor.prototype is not allowed');
  }
  return value;
}

function optionalObject(value: unknown, what: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ProtocolViolation(`${what} must be an object`);
  return value;
}

function operationId(message: JsonObject): string {
  const { id } = message;
  if (typeof id !== 'string' || id === '') throw new ProtocolViolation('id must be a string');
  if (id.length > MAX_SUBSCRIPTION_ID_LENGTH) throw new ProtocolViolation('id is too long');
  return id;
}

/**
 * Parses one frame as graphql-ws defines client messages (graphql-ws `validateMessage`, with
 * the server's view: server-to-client types from a client are violations too).
 */
export function parseClientMessage(text: string): ClientMessage {
  let message: unknown;
  try {
    message = JSON.parse(text, safeReviver);
  } catch (error) {
    throw error instanceof ProtocolViolation ? error : new ProtocolViolation('not JSON');
  }
  if (!isObject(message)) throw new ProtocolViolation('a message must be an object');
  switch (message.type) {
    case 'connection_init':
      return { type: 'connection_init', payload: optionalObject(message.payload, 'payload') };
    case 'ping':
    case 'pong':
      optionalObject(message.payload, 'payload');
      return { type: message.type };
    case 'subscribe': {
      const id = operationId(message);
      const payload = message.payload;
      if (!isObject(payload)) throw new ProtocolViolation('payload must be an object');
      if (typeof payload.query !== 'string') throw new ProtocolViolation('query must be a string');
      const variables = optionalObject(payload.variables, 'variables');
      optionalObject(payload.extensions, 'extensions');
      const { operationName } = payload;
      if (operationName !== undefined && operationName !== null) {
        if (typeof operationName !== 'string') {
          throw new ProtocolViolation('operationName must be a string');
        }
        return {
          type: 'subscribe',
          id,
          payload: { query: payload.query, variables, operationName },
        };
      }
      return { type: 'subscribe', id, payload: { query: payload.query, variables } };
    }
    case 'complete':
      return { type: 'complete', id: operationId(message) };
    default:
      throw new ProtocolViolation('unexpected message type');
  }
}

/** A WebSocket close reason is at most 123 bytes. */
export function closeReason(reason: string, whenTooLong: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : whenTooLong;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  return fragments;
}

function included(node: SelectionNode, variables: JsonObject): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, variables);
  return include?.if !== false;
}

/**
 * The root field graphql-js will subscribe to: the first field of the operation, fragments and
 * @skip/@include followed as its collectFields does. The document must be valid.
 */
export function subscribedField(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: JsonObject,
): string | undefined {
  const fragments = fragmentsOf(document);
  const visited = new Set<string>();
  const first = (selectionSet: SelectionSetNode): string | undefined => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, variables)) continue;
      if (selection.kind === Kind.FIELD) return selection.name.value;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const found = first(selection.selectionSet);
        if (found !== undefined) return found;
        continue;
      }
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visited.has(name)) continue;
      visited.add(name);
      const found = first(fragment.selectionSet);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return first(operation.selectionSet);
}

/**
 * Depth as Mercurius' `queryDepth` counts it (every operation of the document; a field or an
 * inline fragment adds a level, a fragment spread does not), so that a subscription the gate
 * admits is never refused by Mercurius afterwards. Fragment depths are memoised: a valid
 * document has no fragment cycle, and fragments reused many times cost one visit each.
 */
export function documentDepth(document: DocumentNode): number {
  const fragments = fragmentsOf(document);
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (selectionSet: SelectionSetNode): number => {
    let max = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment) continue;
        if (visiting.has(name)) return Number.POSITIVE_INFINITY;
        let inner = memo.get(name);
        if (inner === undefined) {
          visiting.add(name);
          inner = depth(fragment.selectionSet);
          visiting.delete(name);
          memo.set(name, inner);
        }
        max = Math.max(max, inner);
      } else {
        max = Math.max(max, 1 + (selection.selectionSet ? depth(selection.selectionSet) : 0));
      }
    }
    return max;
  };
  let max = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      max = Math.max(max, depth(definition.selectionSet));
    }
  }
  return max;
}
