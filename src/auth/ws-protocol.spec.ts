import { getOperationAST, parse } from 'graphql';
import {
  closeReason,
  documentDepth,
  parseClientMessage,
  ProtocolViolation,
  subscribedField,
} from './ws-protocol';

describe('parseClientMessage', () => {
  it('accepts the messages a client may send, keeping only what the server needs', () => {
    expect(parseClientMessage('{"type":"connection_init"}')).toEqual({
      type: 'connection_init',
      payload: undefined,
    });
    expect(parseClientMessage('{"type":"ping","payload":{"a":1}}')).toEqual({ type: 'ping' });
    expect(
      parseClientMessage(
        '{"id":"1","type":"subscribe","payload":{"query":"q","variables":null,"operationName":"A"},"extensions":[1]}',
      ),
    ).toEqual({
      type: 'subscribe',
      id: '1',
      payload: { query: 'q', variables: undefined, operationName: 'A' },
    });
    expect(parseClientMessage('{"id":"1","type":"complete"}')).toEqual({
      type: 'complete',
      id: '1',
    });
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['no type', '{}'],
    ['a server type', '{"type":"next","id":"1","payload":{}}'],
    ['the deprecated protocol', '{"type":"start","id":"1","payload":{"query":"q"}}'],
    ['an empty id', '{"type":"complete","id":""}'],
    ['a numeric id', '{"type":"complete","id":1}'],
    ['a very long id', JSON.stringify({ type: 'complete', id: 'x'.repeat(257) })],
    ['a payload that is not an object', '{"type":"connection_init","payload":"x"}'],
    ['a query that is not a string', '{"type":"subscribe","id":"1","payload":{"query":{}}}'],
    [
      'variables that are not an object',
      '{"type":"subscribe","id":"1","payload":{"query":"q","variables":[]}}',
    ],
    ['a __proto__ key', '{"type":"ping","payload":{"__proto__":{}}}'],
    ['a constructor.prototype', '{"type":"ping","payload":{"constructor":{"prototype":{}}}}'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseClientMessage(text)).toThrow(ProtocolViolation);
  });
});

describe('closeReason', () => {
  it('keeps a reason within 123 bytes, else the short one', () => {
    expect(closeReason('Subscriber for 1 already exists', 'short')).toBe(
      'Subscriber for 1 already exists',
    );
    expect(closeReason('é'.repeat(62), 'short')).toBe('short');
  });
});

describe('subscribedField', () => {
  const fieldOf = (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    return subscribedField(document, getOperationAST(document)!, variables);
  };

  it('finds the first root field through fragments and @skip/@include', () => {
    expect(fieldOf('subscription { serverTime }')).toBe('serverTime');
    expect(
      fieldOf('subscription { ...F } fragment F on Subscription { a: feedHealth { x } }'),
    ).toBe('feedHealth');
    expect(fieldOf('subscription { ... on Subscription { ticks } }')).toBe('ticks');
    expect(
      fieldOf('subscription ($s: Boolean!) { serverTime @skip(if: $s) feedHealth }', { s: true }),
    ).toBe('feedHealth');
    expect(fieldOf('subscription { serverTime @include(if: false) }')).toBeUndefined();
  });
});

describe('documentDepth', () => {
  it('counts as Mercurius does: fields and inline fragments add a level, spreads do not', () => {
    expect(documentDepth(parse('subscription { serverTime }'))).toBe(1);
    expect(documentDepth(parse('subscription { a { b { c } } }'))).toBe(3);
    expect(documentDepth(parse('subscription { ... on S { a { b } } }'))).toBe(3);
    expect(documentDepth(parse('subscription { a { ...F } } fragment F on T { b { c } }'))).toBe(3);
  });

  it('visits a fragment used many times once (no exponential walk)', () => {
    const chain = Array.from(
      { length: 60 },
      (_, i) => `fragment F${i} on T { ...F${i + 1} ...F${i + 1} }`,
    ).join(' ');
    const document = parse(`subscription { ...F0 } ${chain} fragment F60 on T { x }`);
    expect(documentDepth(document)).toBe(1);
  });
});
