import {
  Field,
  Float,
  GraphQLISODateTime,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { ExchangeSegment } from '../../instruments/models/exchange-segment.enum';
import { DEPTH_LEVELS, DEPTH_STRIDE, type TickRecord } from '../ticks/tick-store';

/** Where an instrument's latest state came from. */
export enum QuoteSource {
  FEED = 'FEED',
  REST = 'REST',
}

registerEnumType(QuoteSource, {
  name: 'QuoteSource',
  description:
    'FEED: the live market feed; REST: a DhanHQ market-quote or option-chain snapshot, taken ' +
    'because the instrument was not streaming.',
});

@ObjectType('DepthLevel', { description: 'One level of the five-level market depth, best first.' })
export class DepthLevelModel {
  @Field(() => Float)
  bidQty!: number;

  @Field(() => Float)
  askQty!: number;

  @Field(() => Int)
  bidOrders!: number;

  @Field(() => Int)
  askOrders!: number;

  @Field(() => Float)
  bidPrice!: number;

  @Field(() => Float)
  askPrice!: number;
}

/** Fields shared by `Tick` and `Quote` (the public contract). Unknown values are null. */
@ObjectType({ isAbstract: true })
export abstract class MarketStateFields {
  @Field(() => ExchangeSegment)
  segment!: ExchangeSegment;

  @Field()
  securityId!: string;

  @Field(() => Float, { nullable: true })
  ltp!: number | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'True time (UTC).' })
  lastTradeTime!: Date | null;

  @Field(() => Float, { nullable: true })
  lastTradeQty!: number | null;

  @Field(() => Float, { nullable: true })
  avgPrice!: number | null;

  @Field(() => Float, { nullable: true })
  volume!: number | null;

  @Field(() => Float, { nullable: true })
  totalBuyQty!: number | null;

  @Field(() => Float, { nullable: true })
  totalSellQty!: number | null;

  @Field(() => Float, { nullable: true })
  open!: number | null;

  @Field(() => Float, { nullable: true })
  high!: number | null;

  @Field(() => Float, { nullable: true })
  low!: number | null;

  @Field(() => Float, { nullable: true })
  close!: number | null;

  @Field(() => Float, { nullable: true })
  prevClose!: number | null;

  @Field(() => Float, { nullable: true, description: 'LTP minus previous close.' })
  change!: number | null;

  @Field(() => Float, { nullable: true, description: 'Change against previous close, %.' })
  changePercent!: number | null;

  @Field(() => Float, { nullable: true, description: 'Open interest (derivatives).' })
  oi!: number | null;

  @Field(() => [DepthLevelModel], { nullable: true, description: 'Null until full depth came.' })
  depth!: DepthLevelModel[] | null;

  @Field({
    description:
      'No usable price: none yet, the feed connection dropped, or the instrument is quiet.',
  })
  stale!: boolean;

  @Field(() => QuoteSource, {
    nullable: true,
    description: 'Where this state came from; null before any data.',
  })
  source!: QuoteSource | null;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description:
      'When the server got this state: the REST answer, or the last feed packet (to the ' +
      "tick store's clock resolution). Null before any data.",
  })
  receivedAt!: Date | null;
}

@ObjectType('Tick', { description: 'Latest state of one instrument, as streamed by `ticks`.' })
export class TickModel extends MarketStateFields {}

@ObjectType('Quote', { description: 'Latest state of one instrument.' })
export class QuoteModel extends MarketStateFields {}

function n(x: number): number | null {
  return x === x ? x : null;
}

/** A plain snapshot of a record (graphql-js path: quotes, option chains, reference tests). */
export function marketState(r: TickRecord): MarketStateFields {
  let depth: DepthLevelModel[] | null = null;
  if (r.hasDepth) {
    depth = [];
    for (let i = 0; i < DEPTH_LEVELS; i++) {
      const o = i * DEPTH_STRIDE;
      const d = r.depth;
      depth.push({
        bidQty: d[o],
        bidOrders: d[o + 1],
        bidPrice: d[o + 2],
        askQty: d[o + 3],
        askOrders: d[o + 4],
        askPrice: d[o + 5],
      });
    }
  }
  return {
    segment: r.segment,
    securityId: r.securityId,
    ltp: n(r.ltp),
    lastTradeTime: r.ltt > 0 ? new Date(r.ltt * 1000) : null,
    lastTradeQty: n(r.ltq),
    avgPrice: n(r.atp),
    volume: n(r.volume),
    totalBuyQty: n(r.totalBuyQty),
    totalSellQty: n(r.totalSellQty),
    open: n(r.open),
    high: n(r.high),
    low: n(r.low),
    close: n(r.close),
    prevClose: n(r.prevClose),
    change: n(r.change),
    changePercent: n(r.changePercent),
    oi: n(r.oi),
    depth,
    stale: r.stale,
    source: sourceOf(r),
    receivedAt: r.hasData ? new Date(r.updatedAt) : null,
  };
}

export function sourceOf(r: TickRecord): QuoteSource | null {
  if (!r.hasData) return null;
  return r.fromRest ? QuoteSource.REST : QuoteSource.FEED;
}
