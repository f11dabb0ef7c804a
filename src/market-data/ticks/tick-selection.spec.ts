import { ExchangeSegment, FeedResponseCode, SEGMENT_CODE, instrumentKey } from '@app/dhan';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory, Query, Resolver } from '@nestjs/graphql';
import { graphql, parse, type GraphQLSchema, type OperationDefinitionNode, Kind } from 'graphql';
import { marketState, TickModel } from '../models/tick.model';
import { collectSelection, selectionSerializer, TickShapes } from './tick-selection';
import { serializeTick } from './tick-serializer';
import { TickRecord, TickStore } from './tick-store';

let current: TickRecord;

@Resolver()
class TickProbeResolver {
  @Query(() => TickModel)
  tick(): TickModel {
    return marketState(current);
  }
}

function tradedRecord(): TickRecord {
  const store = new TickStore();
  store.applyPrevClose({
    type: FeedResponseCode.PREV_CLOSE,
    segment: ExchangeSegment.NSE_FNO,
    securityId: 52175,
    prevClose: 101.5,
    prevOi: 1200,
  });
  return store.applyFull({
    type: FeedResponseCode.FULL,
    segment: ExchangeSegment.NSE_FNO,
    securityId: 52175,
    ltp: 104.35,
    ltq: 75,
    ltt: 1_764_060_000,
    atp: 103.2,
    volume: 123_450,
    totalSellQty: 5_000,
    totalBuyQty: 6_500,
    open: 100,
    close: 0,
    high: 106,
    low: 99.5,
    oi: 45_000,
    depth: Array.from({ length: 5 }, (_, i) => ({
      bidQty: 100 + i,
      askQty: 200 + i,
      bidOrders: 3 + i,
      askOrders: 4 + i,
      bidPrice: 104.3 - i * 0.05,
      askPrice: 104.4 + i * 0.05,
    })),
  })!;
}

function emptyRecord(): TickRecord {
  return new TickStore().ensure(instrumentKey(SEGMENT_CODE[ExchangeSegment.NSE_FNO], 52175));
}

describe('ticks fast path: the same JSON as graphql-js', () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    const app = await NestFactory.createApplicationContext(GraphQLSchemaBuilderModule, {
      logger: false,
    });
    await app.init();
    schema = await app.get(GraphQLSchemaFactory).create([TickProbeResolver]);
    await app.close();
  });

  async function viaGraphql(selection: string, fragments = ''): Promise<string> {
    // The factory builds types only: the root value resolves `tick`.
    const result = await graphql({
      schema,
      source: `{ tick ${selection} } ${fragments}`,
      rootValue: { tick: () => marketState(current) },
    });
    expect(result.errors).toBeUndefined();
    return JSON.stringify((result.data as { tick: unknown }).tick);
  }

  function viaFastPath(selection: string, fragments = '', variables = {}): string {
    const document = parse(`{ tick ${selection} } ${fragments}`);
    const operation = document.definitions[0] as OperationDefinitionNode;
    const field = operation.selectionSet.selections[0];
    if (field.kind !== Kind.FIELD) throw new Error('not a field');
    const fragmentMap = Object.fromEntries(
      document.definitions.flatMap((d) =>
        d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [],
      ),
    );
    const fields = collectSelection(field.selectionSet, fragmentMap, variables);
    return selectionSerializer(fields)(current);
  }

  const cases: Array<[string, string, string?]> = [
    [
      'every field in canonical order',
      '{ segment securityId ltp lastTradeTime lastTradeQty avgPrice volume totalBuyQty totalSellQty open high low close prevClose change changePercent oi depth { bidQty bidOrders bidPrice askQty askOrders askPrice } stale }',
    ],
    ['a few fields, reordered, aliased', '{ stale p: ltp securityId v: volume }'],
    [
      'fragments, __typename, partial depth, repeated keys merged',
      '{ __typename ...F ... on Tick { ltp oi } depth { askPrice __typename } depth { bidQty } ltp }',
      'fragment F on Tick { segment changePercent lastTradeTime }',
    ],
    [
      '@skip and @include',
      '{ ltp @skip(if: true) oi @include(if: false) volume @include(if: true) stale }',
    ],
  ];

  for (const [name, selection, fragments] of cases) {
    it(`${name}: traded state`, async () => {
      current = tradedRecord();
      expect(viaFastPath(selection, fragments)).toBe(await viaGraphql(selection, fragments));
    });
    it(`${name}: no data yet (nulls, stale)`, async () => {
      current = emptyRecord();
      expect(viaFastPath(selection, fragments)).toBe(await viaGraphql(selection, fragments));
    });
  }

  it('the canonical selection is served by the shared record cache (serializeTick)', async () => {
    current = tradedRecord();
    const shapes = new TickShapes();
    const full = collectSelection(
      (
        (parse(`{ tick ${cases[0][1]} }`).definitions[0] as OperationDefinitionNode).selectionSet
          .selections[0] as { selectionSet?: never }
      ).selectionSet,
      {},
      {},
    );
    expect(shapes.fragmentFor(full)).toBeUndefined();
    expect(serializeTick(current)).toBe(await viaGraphql(cases[0][1]));
  });

  it('shares one fragment per record version per shape', () => {
    current = tradedRecord();
    const shapes = new TickShapes();
    const fields = [{ key: 'ltp', name: 'ltp' }];
    const a = shapes.fragmentFor(fields)!;
    const b = shapes.fragmentFor([{ key: 'ltp', name: 'ltp' }])!;
    expect(a).toBe(b);
    expect(a(current)).toBe(b(current));
    const fragment = a(current);
    expect(fragment.view.toString('utf8')).toBe('{"ltp":104.35}');
    // A new version is written in place, into the same holder.
    current.ltp = 104.5;
    current.version++;
    expect(a(current)).toBe(fragment);
    expect(fragment.view.toString('utf8')).toBe('{"ltp":104.5}');
    expect(shapes.size).toBe(1);
  });
});
