import type { ExchangeSegment } from '@app/dhan/types';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { DataSource, type Repository } from 'typeorm';
import { ClusterMutex } from '../cluster/cluster-mutex';
import { Clock } from '../common/clock';
import { BadUserInputError } from '../common/errors/domain-error';
import { isUniqueViolation } from '../database/unique-violation';
import {
  TRADE_STORED,
  type TradeRecord,
  type TradeStoredPayload,
} from '../execution/execution.events';
import { InstrumentsService } from '../instruments/instruments.service';
import { applyBps } from '../trading/price-units';
import type { ProductType } from '../trading/order-vocabulary';
import { chargesFor } from './trade-charges';
import { FundsAccountEntity } from './entities/funds-account.entity';
import { FundsEntryEntity } from './entities/funds-entry.entity';
import {
  FUNDS_CHANGED,
  RESERVATION_SETTLED,
  type FundsChangedEvent,
  type ReservationSettledEvent,
} from './funds.events';
import type { FundsLedger, FundsSnapshot } from './funds-ledger';
import {
  FundsBook,
  type SettlementEntry,
  type SettlementRules,
  type SettlementTrade,
} from './funds-settlement';
import { PORTFOLIO_VIEW, type PortfolioView } from './portfolio-view';
import { endAt, parseParts, serializeParts, type ReservationPart } from './reservation-parts';
import { instrumentKind, marginFor } from './risk-order-facts';
import type { MarginRules } from './risk-limits';
import { RISK_OPTIONS, type RiskOptions } from './risk.options';

/**
 * An order's reservation as the OMS stores it with the order: the terms RMS gave it
 * (`reservationOf`, opaque to the OMS) and what it held when written.
 */
export interface StoredReservation {
  /** The reservation's parts in their stored form; null when the order holds nothing. */
  terms: string | null;
  heldPaise: number;
}

/** One order's stored reservation, as the rebuild and the order's own changes read it. */
export interface ReservationRow extends StoredReservation {
  orderId: string;
  quantity: number;
  filledQuantity: number;
  /** A sliced order's children: their trades settle its reservation. */
  children?: string[];
}

/**
 * The reservations a user's orders still hold, to rebuild the ledger: every working order, and
 * every order that ended with stored terms (a filled share whose trade may not be settled).
 */
export type ReservationSource = (userId: string) => Promise<ReservationRow[]>;

/** The margin rules in force for a user (RiskService registers its limits lookup). */
export type MarginRulesSource = (userId: string) => Promise<MarginRules>;

/** A user's funds as the API shows them: the ledger plus unrealised P&L of open positions. */
export interface FundsView extends FundsSnapshot {
  unrealizedPnlPaise: number;
}

/** The largest credit or debit one adjustment may carry: Rs 100 crore. */
export const MAX_ADJUSTMENT_PAISE = 100_000_000_000;

/**
 * The funds ledger of every user (paper accounts, and each dealer's own ledger in live mode):
 * the opening balance (funds_accounts), one stored entry per settled trade (realised P&L,
 * charges, the position's margin after it) and per adjustment (funds_entries), and the
 * reservations of orders (the parts each order stores, see ReservationPart). A user's book is
 * built on first use by replaying their trades against the stored entries (a trade stored but
 * not yet settled when the process stopped is settled then) and laying the orders' stored
 * reservations over them, so a restart gives back exactly the same figures.
 *
 * Invariants: balance = opening + realised P&L - charges + adjustments; used = the margin of the
 * open positions (0 when flat); reserved = for each order, the margin of its units that no
 * settled trade carries yet: the share of a fill stays reserved until the trade that carries it
 * is settled (linked by the trade's order id), and is released then, once, in the same step as
 * the position's margin takes it over. So at every instant the database (orders' stored
 * reservations, trades, entries) rebuilds the figures the live ledger shows, whichever of an
 * order's fill and its trade arrived first.
 *
 * With REDIS_URL the rebuild is the truth: each admission rebuilds under the user's cluster
 * mutex (RiskService), and a `funds` query answers from a rebuild whenever this instance or
 * another announced a change of the user's funds since the last one (FUNDS_CHANGED).
 */
@Injectable()
export class FundsService {
  private readonly logger = new Logger(FundsService.name);
  private readonly books = new Map<string, FundsBook>();
  private readonly loads = new Map<string, Promise<FundsBook>>();
  private reservationSource: ReservationSource = () => Promise.resolve([]);
  private marginRulesSource: MarginRulesSource | undefined;
  /** REDIS_URL: per user, how many changes of their funds were announced (here or elsewhere). */
  private readonly changes = new Map<string, number>();
  /** REDIS_URL: a user's funds as last rebuilt for a query, with the changes count then. */
  private readonly current = new Map<string, { changes: number; snapshot: FundsSnapshot }>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(RISK_OPTIONS) private readonly options: RiskOptions,
    private readonly clock: Clock,
    private readonly instruments: InstrumentsService,
    @Inject(PORTFOLIO_VIEW) private readonly portfolio: PortfolioView,
    private readonly events: EventEmitter2,
    @Optional() private readonly mutex?: ClusterMutex,
  ) {}

  private get clustered(): boolean {
    return this.mutex?.clustered === true;
  }

  private get accounts(): Repository<FundsAccountEntity> {
    return this.dataSource.getRepository(FundsAccountEntity);
  }

  private get entries(): Repository<FundsEntryEntity> {
    return this.dataSource.getRepository(FundsEntryEntity);
  }

  useReservationSource(source: ReservationSource): void {
    this.reservationSource = source;
  }

  useMarginRules(source: MarginRulesSource): void {
    this.marginRulesSource = source;
  }

  /** The user's ledger (built once, see the class comment). */
  async ledger(userId: string): Promise<FundsLedger> {
    return (await this.book(userId)).ledger;
  }

  /**
   * The user's funds. With REDIS_URL, from the database: rebuilt when a change was announced
   * since the last rebuild (other instances admit, fill and settle the same dealer's orders).
   */
  async funds(userId: string): Promise<FundsView> {
    const snapshot = this.clustered
      ? await this.currentSnapshot(userId)
      : (await this.ledger(userId)).snapshot();
    return { ...snapshot, unrealizedPnlPaise: this.portfolio.unrealizedPnlPaise(userId) };
  }

  /**
   * Drops the user's ledger and builds it again from the database (another instance reserved,
   * released or settled meanwhile; REDIS_URL, under the user's cluster mutex).
   */
  async reload(userId: string): Promise<void> {
    await this.loads.get(userId)?.catch(() => undefined);
    this.books.delete(userId);
    await this.book(userId);
  }

  /** What the order holds in the loaded ledger, in the form the OMS stores. */
  reservationOf(userId: string, orderId: string): StoredReservation {
    return stored(this.books.get(userId)?.ledger, orderId);
  }

  /**
   * The order ended (cancelled, rejected, expired, traded) with `filledQuantity` filled: its
   * unfilled units hold nothing more; the filled ones stay held until their trades settle.
   * From the order's stored reservation (what the database rebuilds), not the loaded one.
   */
  async endReservation(
    userId: string,
    row: ReservationRow,
    filledQuantity: number,
  ): Promise<StoredReservation> {
    const ledger = await this.ledger(userId);
    ledger.restore(row.orderId, endAt(partsOf(row), filledQuantity));
    return stored(ledger, row.orderId);
  }

  /** Sets the order's reservation back to what it stored (a refused modification). */
  async restoreReservation(userId: string, row: ReservationRow): Promise<StoredReservation> {
    const ledger = await this.ledger(userId);
    ledger.restore(row.orderId, partsOf(row));
    return stored(ledger, row.orderId);
  }

  /** A sliced order's child: its trades settle its parent's reservation. */
  async linkSlice(userId: string, childId: string, parentId: string): Promise<void> {
    (await this.ledger(userId)).link(childId, parentId);
  }

  /** Drops all a hold or an order reserved (a basket hold no leg took). */
  async release(userId: string, orderId: string): Promise<number> {
    return (await this.ledger(userId)).release(orderId);
  }

  /** The OMS stored a changed reservation (after its write): other instances are told. */
  reservationStored(userId: string): void {
    this.changed(userId);
  }

  /**
   * Credits (positive) or debits (negative) a user's balance, stored as an ADJUSTMENT entry
   * before the ledger moves. The caller audits it (who, why). A debit larger than what is
   * available, a zero or a non-integer amount is BAD_USER_INPUT and changes nothing.
   */
  async adjust(userId: string, amountPaise: number, reason: string): Promise<FundsSnapshot> {
    if (!Number.isSafeInteger(amountPaise) || amountPaise === 0) {
      throw new BadUserInputError('The amount must be a non-zero whole number of paise');
    }
    if (Math.abs(amountPaise) > MAX_ADJUSTMENT_PAISE) {
      throw new BadUserInputError('The amount is above the largest adjustment (Rs 100 crore)');
    }
    const why = reason.trim();
    if (why === '' || why.length > 200) {
      throw new BadUserInputError('A reason of 1 to 200 characters is required');
    }
    const ledger = await this.ledger(userId);
    if (amountPaise < 0 && -amountPaise > ledger.available()) {
      throw new BadUserInputError(
        `The debit is more than the available funds (Rs ${(ledger.available() / 100).toFixed(2)})`,
      );
    }
    await this.entries.insert({
      id: randomUUID(),
      userId,
      kind: 'ADJUSTMENT',
      tradeKey: null,
      positionKey: null,
      realizedPaise: 0,
      chargesPaise: 0,
      marginPaise: 0,
      amountPaise,
      reason: why,
      createdAt: this.clock.now(),
    });
    ledger.adjust(amountPaise);
    this.changed(userId);
    this.logger.log({ msg: 'funds adjusted', userId, amountPaise });
    return ledger.snapshot();
  }

  /**
   * Settles a trade as soon as it is stored (deduplicated: a replayed trade changes nothing):
   * the position's margin, the balance, and its order's reservation share of the traded units.
   */
  @OnEvent(TRADE_STORED)
  async onTradeStored(payload: TradeStoredPayload): Promise<void> {
    const { trade } = payload;
    try {
      const book = await this.book(trade.userId);
      const rules = await this.rulesFor(trade.userId);
      const entry = book.settle(settlementTrade(trade), rules);
      const emptied = book.ledger.takeEmptied();
      if (entry) {
        await this.store(trade.userId, entry);
        this.changed(trade.userId);
      }
      for (const orderId of emptied) this.settledReservation(trade.userId, orderId);
    } catch (e) {
      this.logger.error({ msg: 'trade not settled', tradeId: trade.exchangeTradeId, err: e });
    }
  }

  /** Another instance changed a user's funds: the next `funds` query rebuilds them. */
  @OnEvent(FUNDS_CHANGED)
  onFundsChanged(event: FundsChangedEvent): void {
    if (event.remote === true) this.count(event.userId);
  }

  /** REDIS_URL: this instance changed a user's funds in the database (after the write). */
  private changed(userId: string): void {
    if (!this.clustered) return;
    this.count(userId);
    const event: FundsChangedEvent = { userId };
    this.events.emit(FUNDS_CHANGED, event);
  }

  private count(userId: string): void {
    this.changes.set(userId, (this.changes.get(userId) ?? 0) + 1);
  }

  private async currentSnapshot(userId: string): Promise<FundsSnapshot> {
    const changes = this.changes.get(userId) ?? 0;
    const known = this.current.get(userId);
    if (known !== undefined && known.changes === changes) return known.snapshot;
    const snapshot = (await this.build(userId, false)).ledger.snapshot();
    this.current.set(userId, { changes, snapshot });
    return snapshot;
  }

  private settledReservation(userId: string, orderId: string): void {
    const event: ReservationSettledEvent = { userId, orderId };
    this.events.emit(RESERVATION_SETTLED, event);
  }

  private book(userId: string): Promise<FundsBook> {
    const ready = this.books.get(userId);
    if (ready) return Promise.resolve(ready);
    let loading = this.loads.get(userId);
    if (!loading) {
      loading = this.build(userId, true).finally(() => this.loads.delete(userId));
      this.loads.set(userId, loading);
    }
    return loading;
  }

  /**
   * The user's book from the database. `install`: kept as the user's ledger, with the trades
   * stored but not settled written as settled and the orders whose reservation holds nothing
   * more announced (RESERVATION_SETTLED); otherwise a read-only copy (a clustered query).
   */
  private async build(userId: string, install: boolean): Promise<FundsBook> {
    let account = await this.accounts.findOne({ where: { userId } });
    if (!account) {
      const opening = this.options.paperFundsRupees * 100;
      await this.accounts
        .createQueryBuilder()
        .insert()
        .values({ userId, balancePaise: opening, usedPaise: 0, updatedAt: this.clock.now() })
        .orIgnore()
        .execute();
      account = await this.accounts.findOneOrFail({ where: { userId } });
    }
    // The reservations before the trades: an order's stored reservation is dropped only after
    // the trades that settle it are stored, so the trades read next include them (an order
    // that ends meanwhile is read as it was, holding more). Admissions and modifications run
    // under the dealer's mutex, as does the rebuild before them; one a query's rebuild misses
    // is announced after its write, and the next query rebuilds again.
    const reservations = await this.reservationSource(userId);
    const [rows, trades, rules] = await Promise.all([
      this.entries.find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } }),
      this.portfolio.tradesOf(userId),
      this.rulesFor(userId),
    ]);
    const existing = this.books.get(userId);
    if (install && existing) return existing;
    const book = new FundsBook(account.balancePaise);
    const stored = new Map<string, SettlementEntry>();
    for (const row of rows) {
      if (row.kind === 'ADJUSTMENT') book.ledger.adjust(row.amountPaise);
      else if (row.tradeKey !== null && row.positionKey !== null) {
        stored.set(row.tradeKey, {
          tradeKey: row.tradeKey,
          positionKey: row.positionKey,
          realizedPaise: row.realizedPaise,
          chargesPaise: row.chargesPaise,
          marginPaise: row.marginPaise,
        });
      }
    }
    const missing: SettlementEntry[] = [];
    for (const trade of trades) {
      const st = settlementTrade(trade);
      const known = stored.get(st.tradeKey);
      const entry = book.settle(st, rules, known);
      if (entry && !known) missing.push(entry);
    }
    // Over the settled trades: each order holds what its units not settled yet reserve.
    const spent: string[] = [];
    for (const reservation of reservations) {
      for (const child of reservation.children ?? []) {
        book.ledger.link(child, reservation.orderId);
      }
      const held = book.ledger.restore(reservation.orderId, partsOf(reservation));
      if (held === 0 && (reservation.terms !== null || reservation.heldPaise > 0)) {
        spent.push(reservation.orderId);
      }
    }
    book.ledger.takeEmptied();
    if (!install) return book;
    this.books.set(userId, book);
    for (const entry of missing) await this.store(userId, entry);
    if (missing.length > 0) {
      this.logger.warn({ msg: 'trades settled at rebuild', userId, count: missing.length });
    }
    for (const orderId of spent) this.settledReservation(userId, orderId);
    return book;
  }

  private async store(userId: string, entry: SettlementEntry): Promise<void> {
    try {
      await this.entries.insert({
        id: randomUUID(),
        userId,
        kind: 'TRADE',
        tradeKey: entry.tradeKey,
        positionKey: entry.positionKey,
        realizedPaise: entry.realizedPaise,
        chargesPaise: entry.chargesPaise,
        marginPaise: entry.marginPaise,
        amountPaise: 0,
        reason: null,
        createdAt: this.clock.now(),
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }

  private async rulesFor(userId: string): Promise<SettlementRules> {
    const margin = this.marginRulesSource ? await this.marginRulesSource(userId) : undefined;
    const charges = this.options.charges;
    return {
      marginOf: (trade, side, quantity, openCostPaise) =>
        margin === undefined ? 0 : this.marginOf(trade, side, quantity, openCostPaise, margin),
      chargesOf: (trade, value) =>
        charges ? chargesFor(trade.key.segment, trade.side, value).totalPaise : 0,
    };
  }

  private marginOf(
    trade: SettlementTrade,
    side: 'BUY' | 'SELL',
    quantity: number,
    openCostPaise: number,
    rules: MarginRules,
  ): number {
    const productType = trade.key.productType as ProductType;
    const instrument = this.instruments.get(trade.key.segment, trade.key.securityId);
    const margin =
      instrument === undefined
        ? applyBps(openCostPaise, rules.productBps[productType] ?? 10_000)
        : marginFor(
            { side, productType },
            instrumentKind(instrument),
            quantity,
            openCostPaise,
            instrument,
            rules,
          );
    return margin ?? openCostPaise;
  }
}

/**
 * The parts an order's stored reservation holds. A row without terms (written before orders
 * stored them) held `heldPaise` for its unfilled units.
 */
function partsOf(row: ReservationRow): ReservationPart[] {
  if (row.terms !== null) return parseParts(row.terms);
  if (row.heldPaise <= 0 || row.quantity <= row.filledQuantity) return [];
  return [{ from: row.filledQuantity, to: row.quantity, paise: row.heldPaise, end: row.quantity }];
}

/** What an order holds in `ledger`, in the form the OMS stores. */
function stored(ledger: FundsLedger | undefined, orderId: string): StoredReservation {
  const heldPaise = ledger?.reservationOf(orderId) ?? 0;
  if (ledger === undefined || heldPaise === 0) return { terms: null, heldPaise: 0 };
  return { terms: serializeParts(ledger.partsOf(orderId)), heldPaise };
}

function settlementTrade(trade: TradeRecord): SettlementTrade {
  return {
    tradeKey: `${trade.segment}|${trade.exchangeTradeId}`,
    orderId: trade.orderId,
    key: {
      userId: trade.userId,
      segment: trade.segment as ExchangeSegment,
      securityId: trade.securityId,
      productType: trade.productType,
    },
    side: trade.side,
    quantity: trade.quantity,
    priceUnits: trade.priceUnits,
  };
}
