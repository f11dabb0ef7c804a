import type { ExchangeSegment } from '@app/dhan/types';
import { FeedMode } from '@app/dhan/types';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { And, LessThan, MoreThanOrEqual, type FindOptionsWhere, type Repository } from 'typeorm';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../market-data/feed/subscription-registry';
import { MarketDataService } from '../market-data/market-data.service';
import { PositionBook, type PositionKey, type PositionView } from './domain';
import { PositionCarryEntity } from './entities/position-carry.entity';
import { TradeEntity } from './entities/trade.entity';
import {
  POSITIONS_UPDATED,
  type PositionsUpdatedPayload,
  type TradeRecord,
} from './execution.events';

/** What RMS needs of a user's book for one order (money in integer paise). */
export interface RiskSnapshot {
  netQuantity: number;
  /** Sum over the user's open positions of |net| x LTP (open average without an LTP). */
  grossExposurePaise: number;
  /** Realised + unrealised P&L of the user's trades of the current IST day. */
  dayPnlPaise: number;
}

/** What the risk desk filters trades by (every field optional; `to` exclusive). */
export interface TradeSearch {
  userId?: string;
  segment?: string;
  securityId?: string;
  productType?: string;
  from?: Date;
  to?: Date;
}

export interface PositionSnapshot {
  key: PositionKey;
  view: PositionView;
}

/** A position's day: what was carried into it and its P&L since the day's start. */
export interface PositionDay {
  /** Net quantity carried forward at the start of the day (0 when none). */
  carriedQuantity: number;
  /** Price the carried quantity is valued from today (the previous close), rupees. */
  referencePrice: number | null;
  /** P&L since the start of the day, paise; undefined without a live price. */
  dayPnlPaise: bigint | undefined;
}

/** Products whose positions carry forward to the next day (INTRADAY, CO, BO are squared off). */
/** A carried position as stored at start of day. */
interface StoredCarry {
  key: PositionKey;
  quantity: number;
  referencePrice: number;
}

export const CARRIED_PRODUCTS: ReadonlySet<string> = new Set(['CNC', 'MARGIN', 'MTF']);

/** Prices and references, the part of MarketDataService positions use. */
export type PortfolioMarketData = Pick<MarketDataService, 'record' | 'acquire' | 'release'>;

export const PUBLISH_INTERVAL_MS = 250;
const IST_OFFSET_MS = 330 * 60_000;

function istDay(at: Date): string {
  return new Date(at.getTime() + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * What a subscriber would see change. A flat position's P&L no longer moves with the price, so
 * its LTP is left out: it is published once when it goes flat, then not again until it trades.
 */
function signature(view: PositionView): string {
  const flat = view.netQuantity === 0;
  return [
    view.netQuantity,
    view.buyQuantity,
    view.sellQuantity,
    view.realizedPnlPaise,
    flat ? '' : (view.unrealizedPnlPaise ?? ''),
    flat ? '' : (view.ltp ?? ''),
  ].join('|');
}

/**
 * Positions per user, instrument and product, netted from the trades table (average cost,
 * integer arithmetic: execution/domain/position.ts). Rebuilt at boot from every stored trade;
 * each new trade is applied once (the book dedupes by segment and exchange trade id too).
 * Unrealised P&L marks the open quantity to the live LTP of the tick store. Open positions hold
 * a POSITION reference so their prices stay live; a flat one releases it.
 */
@Injectable()
export class PortfolioService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PortfolioService.name);
  private book = new PositionBook();
  /** Today's trades only (IST day), for the day P&L RMS checks. */
  private dayBook = new PositionBook();
  private day = istDay(new Date());
  private readonly held = new Set<string>();
  /** Positions carried into the current day, with their reference price. */
  private carried = new Map<string, { quantity: number; referencePrice: number }>();
  private readonly published = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectRepository(TradeEntity) private readonly tradeRows: Repository<TradeEntity>,
    @InjectRepository(PositionCarryEntity)
    private readonly carries: Repository<PositionCarryEntity>,
    private readonly marketData: MarketDataService,
    private readonly events: EventEmitter2,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.rebuild();
    this.timer = setInterval(() => this.publishChanges(), PUBLISH_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Rebuilds every position from the trades table (boot, tests). The day starts where the last
   * stored carry-forward for today (or a later trading date) says, with its references; without
   * one, at the start of today's IST date with the feed's closes.
   */
  async rebuild(): Promise<number> {
    const rows = await this.tradeRows.find({ order: { tradedAt: 'ASC', createdAt: 'ASC' } });
    this.book = new PositionBook();
    this.dayBook = new PositionBook();
    const today = istDay(new Date());
    this.day = today;
    const [stored] = await this.carries.find({ order: { carriedAt: 'DESC' }, take: 1 });
    const resume = stored !== undefined && stored.tradingDate >= today ? stored : undefined;
    const startsDay = resume
      ? (row: TradeEntity) => row.tradedAt.getTime() >= resume.carriedAt.getTime()
      : (row: TradeEntity) => istDay(row.tradedAt) >= today;
    const carry = () => (resume ? this.restoreCarry(resume) : this.carryForward(today));
    // Positions as they stood when the day began carry forward; the day's trades then count.
    let carried = false;
    for (const row of rows) {
      if (!carried && startsDay(row)) {
        carry();
        carried = true;
      }
      this.applyToBooks(row);
    }
    if (!carried) carry();
    for (const position of this.book.all()) this.syncReference(position.key);
    this.logger.log({ msg: 'positions rebuilt from trades', trades: rows.length });
    return rows.length;
  }

  /** Applies a newly stored trade; true when it changed a position. */
  applyTrade(row: TradeEntity): boolean {
    const applied = this.applyToBooks(row);
    if (applied) this.syncReference(this.keyOf(row));
    return applied;
  }

  positions(userId: string): PositionSnapshot[] {
    return this.book
      .all()
      .filter((p) => p.key.userId === userId)
      .map((p) => ({ key: p.key, view: p.view(this.ltpOf(p.key)) }));
  }

  position(key: PositionKey): PositionSnapshot | undefined {
    const p = this.book.get(key);
    return p ? { key: p.key, view: p.view(this.ltpOf(p.key)) } : undefined;
  }

  /** The user's trades, newest first (at most `limit`). */
  trades(userId: string, limit = 1_000): Promise<TradeEntity[]> {
    return this.tradeRows.find({
      where: { userId },
      order: { tradedAt: 'DESC', createdAt: 'DESC' },
      take: limit,
    });
  }

  /** Every open position of every user (the intraday square-off). */
  openPositions(): PositionSnapshot[] {
    return this.book
      .all()
      .filter((p) => p.netQuantity !== 0)
      .map((p) => ({ key: p.key, view: p.view(this.ltpOf(p.key)) }));
  }

  /**
   * Start of a trading day: open CNC/MARGIN/MTF positions carry forward with the previous close
   * as their reference (the feed's last close, else its previous close, else the LTP, else the
   * open average); the day's P&L restarts from there. Returns the positions carried.
   */
  carryForward(tradingDate: string): number {
    this.day = tradingDate;
    this.dayBook = new PositionBook();
    this.carried = new Map();
    for (const p of this.book.all()) {
      if (p.netQuantity === 0 || !CARRIED_PRODUCTS.has(p.key.productType)) continue;
      const referencePrice = this.previousClose(p.key) ?? p.view().openAverage;
      const id = PositionBook.keyOf(p.key);
      this.dayBook.applyTrade(p.key, {
        tradeId: `carry:${tradingDate}:${id}`,
        side: p.netQuantity > 0 ? 'BUY' : 'SELL',
        quantity: Math.abs(p.netQuantity),
        price: referencePrice,
      });
      this.carried.set(id, { quantity: p.netQuantity, referencePrice });
    }
    this.published.clear();
    this.logger.log({ msg: 'positions carried forward', tradingDate, carried: this.carried.size });
    return this.carried.size;
  }

  /** Start of a trading day: carries forward (see carryForward) and stores what it carried. */
  async startDay(tradingDate: string): Promise<number> {
    const count = this.carryForward(tradingDate);
    const positions: StoredCarry[] = [];
    for (const p of this.book.all()) {
      const carried = this.carried.get(PositionBook.keyOf(p.key));
      if (carried) positions.push({ key: p.key, ...carried });
    }
    await this.carries.save({
      tradingDate,
      carriedAt: new Date(),
      positions: JSON.stringify(positions),
    });
    return count;
  }

  /** Re-applies a stored carry-forward (a restart during its day). */
  private restoreCarry(stored: PositionCarryEntity): number {
    this.day = stored.tradingDate;
    this.dayBook = new PositionBook();
    this.carried = new Map();
    for (const { key, quantity, referencePrice } of JSON.parse(stored.positions) as StoredCarry[]) {
      const id = PositionBook.keyOf(key);
      this.dayBook.applyTrade(key, {
        tradeId: `carry:${stored.tradingDate}:${id}`,
        side: quantity > 0 ? 'BUY' : 'SELL',
        quantity: Math.abs(quantity),
        price: referencePrice,
      });
      this.carried.set(id, { quantity, referencePrice });
    }
    this.published.clear();
    return this.carried.size;
  }

  /** The position's day (carried quantity, reference price, day P&L). */
  dayOf(key: PositionKey): PositionDay {
    const id = PositionBook.keyOf(key);
    const carried = this.carried.get(id);
    const day = this.dayBook.get(key);
    const ltp = this.ltpOf(key);
    return {
      carriedQuantity: carried?.quantity ?? 0,
      referencePrice: carried?.referencePrice ?? null,
      dayPnlPaise: day === undefined ? 0n : ltp === undefined ? undefined : day.totalPnlPaise(ltp),
    };
  }

  /** Every stored trade of the user in the order positions apply them (the ledger's rebuild). */
  async tradesOf(userId: string): Promise<TradeRecord[]> {
    const rows = await this.tradeRows.find({
      where: { userId },
      order: { tradedAt: 'ASC', createdAt: 'ASC' },
    });
    return rows.map(toTradeRecord);
  }

  /** Unrealised P&L of the user's open positions at the live LTP (0 for those without one). */
  unrealizedPnlPaise(userId: string): number {
    let total = 0n;
    for (const p of this.book.all()) {
      if (p.key.userId !== userId || p.netQuantity === 0) continue;
      const ltp = this.ltpOf(p.key);
      if (ltp !== undefined) total += p.unrealizedPnlPaise(ltp) ?? 0n;
    }
    return Number(total);
  }

  /** Every user's positions (the risk desk), unrealised P&L at the live LTP. */
  allPositions(): PositionSnapshot[] {
    return this.book.all().map((p) => ({ key: p.key, view: p.view(this.ltpOf(p.key)) }));
  }

  /** Trades of every user matching `filter`, newest first, one page (the risk desk). */
  async searchTrades(
    filter: TradeSearch,
    page: { limit: number; offset: number },
  ): Promise<{ total: number; rows: TradeEntity[] }> {
    const where: FindOptionsWhere<TradeEntity> = {};
    if (filter.userId !== undefined) where.userId = filter.userId;
    if (filter.segment !== undefined) where.segment = filter.segment;
    if (filter.securityId !== undefined) where.securityId = filter.securityId;
    if (filter.productType !== undefined) where.productType = filter.productType;
    if (filter.from && filter.to)
      where.tradedAt = And(MoreThanOrEqual(filter.from), LessThan(filter.to));
    else if (filter.from) where.tradedAt = MoreThanOrEqual(filter.from);
    else if (filter.to) where.tradedAt = LessThan(filter.to);
    const [rows, total] = await this.tradeRows.findAndCount({
      where,
      order: { tradedAt: 'DESC', createdAt: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
    return { total, rows };
  }

  riskSnapshot(
    userId: string,
    segment: ExchangeSegment,
    securityId: string,
    productType: string,
  ): RiskSnapshot {
    this.rollDay();
    const own = this.book.get({ userId, segment, securityId, productType });
    let gross = 0n;
    for (const p of this.book.all()) {
      if (p.key.userId !== userId || p.netQuantity === 0) continue;
      const view = p.view();
      const price = this.ltpOf(p.key) ?? view.openAverage;
      gross += BigInt(Math.abs(p.netQuantity)) * BigInt(Math.round(price * 100));
    }
    let dayPnl = 0n;
    for (const p of this.dayBook.all()) {
      if (p.key.userId !== userId) continue;
      const ltp = this.ltpOf(p.key);
      dayPnl += (ltp === undefined ? undefined : p.totalPnlPaise(ltp)) ?? p.realizedPnlPaise();
    }
    return {
      netQuantity: own?.netQuantity ?? 0,
      grossExposurePaise: Number(gross),
      dayPnlPaise: Number(dayPnl),
    };
  }

  /** Positions whose quantities or P&L changed since last published (called on a timer). */
  publishChanges(): number {
    let count = 0;
    for (const p of this.book.all()) {
      const id = PositionBook.keyOf(p.key);
      const view = p.view(this.ltpOf(p.key));
      const sig = signature(view);
      if (this.published.get(id) === sig) continue;
      this.published.set(id, sig);
      const payload: PositionsUpdatedPayload = { key: p.key, view };
      this.events.emit(POSITIONS_UPDATED, payload);
      count++;
    }
    return count;
  }

  private applyToBooks(row: TradeEntity): boolean {
    const key = this.keyOf(row);
    const fill = {
      tradeId: row.exchangeTradeId,
      side: row.side === 'SELL' ? ('SELL' as const) : ('BUY' as const),
      quantity: row.quantity,
      price: row.priceUnits / 10_000,
    };
    const result = this.book.applyTrade(key, fill);
    if (result.kind === 'INVALID') {
      this.logger.error({ msg: 'trade not applied to positions', tradeId: row.id, ...result });
    }
    if (result.kind !== 'APPLIED') return false;
    this.rollDay();
    if (istDay(row.tradedAt) === this.day) this.dayBook.applyTrade(key, fill);
    return true;
  }

  /** A new IST day since the last one seen (never back: start of day may have set a later one). */
  private rollDay(): void {
    const today = istDay(new Date());
    if (today > this.day) this.carryForward(today);
  }

  private previousClose(key: PositionKey): number | undefined {
    const r = this.marketData.record(key.segment, key.securityId);
    for (const price of [r?.close, r?.prevClose, r?.ltp]) {
      if (price !== undefined && Number.isFinite(price) && price > 0) return price;
    }
    return undefined;
  }

  private keyOf(row: TradeEntity): PositionKey {
    return {
      userId: row.userId,
      segment: row.segment as ExchangeSegment,
      securityId: row.securityId,
      productType: row.productType,
    };
  }

  private ltpOf(key: PositionKey): number | undefined {
    const record = this.marketData.record(key.segment, key.securityId);
    const ltp = record?.ltp;
    return ltp !== undefined && Number.isFinite(ltp) && ltp > 0 ? ltp : undefined;
  }

  /** Holds a POSITION reference while the position is open, releases it when flat. */
  private syncReference(key: PositionKey): void {
    const id = PositionBook.keyOf(key);
    const open = (this.book.get(key)?.netQuantity ?? 0) !== 0;
    const ref: SubscriptionReference = {
      segment: key.segment,
      securityId: key.securityId,
      kind: ReferenceKind.POSITION,
      holderId: id,
      mode: FeedMode.QUOTE,
    };
    try {
      if (open && !this.held.has(id)) {
        this.marketData.acquire([ref]);
        this.held.add(id);
      } else if (!open && this.held.has(id)) {
        this.marketData.release([ref]);
        this.held.delete(id);
      }
    } catch (error) {
      this.logger.warn({
        msg: 'position reference not changed',
        position: id,
        err: (error as Error).message,
      });
    }
  }
}

export function toTradeRecord(row: TradeEntity): TradeRecord {
  return {
    userId: row.userId,
    orderId: row.orderId,
    segment: row.segment,
    securityId: row.securityId,
    productType: row.productType,
    side: row.side === 'SELL' ? 'SELL' : 'BUY',
    quantity: row.quantity,
    exchangeTradeId: row.exchangeTradeId,
    priceUnits: row.priceUnits,
    tradedAt: row.tradedAt,
  };
}
