import type { ExchangeSegment } from '@app/dhan/types';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { DataSource, type Repository } from 'typeorm';
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
import type { FundsLedger, FundsSnapshot } from './funds-ledger';
import {
  FundsBook,
  type SettlementEntry,
  type SettlementRules,
  type SettlementTrade,
} from './funds-settlement';
import { PORTFOLIO_VIEW, type PortfolioView } from './portfolio-view';
import { instrumentKind, marginFor } from './risk-order-facts';
import type { MarginRules } from './risk-limits';
import { RISK_OPTIONS, type RiskOptions } from './risk.options';

/** Margin still held by a user's working orders, to rebuild the ledger after a restart. */
export type ReservationSource = (
  userId: string,
) => Promise<Array<{ orderId: string; amountPaise: number }>>;

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
 * reservations of working orders. A user's book is built on first use by replaying their
 * trades against the stored entries (a trade stored but not yet settled when the process
 * stopped is settled then), so a restart gives back exactly the same figures.
 *
 * Invariant: balance = opening + realised P&L - charges + adjustments, and used = the margin of
 * the open positions (0 when flat).
 */
@Injectable()
export class FundsService {
  private readonly logger = new Logger(FundsService.name);
  private readonly books = new Map<string, FundsBook>();
  private readonly loads = new Map<string, Promise<FundsBook>>();
  private reservationSource: ReservationSource = () => Promise.resolve([]);
  private marginRulesSource: MarginRulesSource | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(RISK_OPTIONS) private readonly options: RiskOptions,
    private readonly clock: Clock,
    private readonly instruments: InstrumentsService,
    @Inject(PORTFOLIO_VIEW) private readonly portfolio: PortfolioView,
  ) {}

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

  async funds(userId: string): Promise<FundsView> {
    const snapshot = (await this.ledger(userId)).snapshot();
    return { ...snapshot, unrealizedPnlPaise: this.portfolio.unrealizedPnlPaise(userId) };
  }

  reservationOf(userId: string, orderId: string): number {
    return this.books.get(userId)?.ledger.reservationOf(orderId) ?? 0;
  }

  async restoreReservation(userId: string, orderId: string, amountPaise: number): Promise<void> {
    (await this.ledger(userId)).reserve(orderId, amountPaise);
  }

  async release(userId: string, orderId: string): Promise<number> {
    return (await this.ledger(userId)).release(orderId);
  }

  /**
   * `filled` of the `remainingBefore` unfilled units traded: that share of the order's
   * reservation is no longer held (all of it when the rest is filled). What traded holds margin
   * through its position, at the traded price, once the trade is settled.
   */
  async releaseFilled(
    userId: string,
    orderId: string,
    filled: number,
    remainingBefore: number,
  ): Promise<void> {
    if (filled <= 0) return;
    const ledger = await this.ledger(userId);
    const held = ledger.reservationOf(orderId);
    const amount = filled >= remainingBefore ? held : Math.floor((held * filled) / remainingBefore);
    if (amount > 0) ledger.releaseFilled(orderId, amount);
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
    this.logger.log({ msg: 'funds adjusted', userId, amountPaise });
    return ledger.snapshot();
  }

  /** Settles a trade as soon as it is stored (deduplicated: a replayed trade changes nothing). */
  @OnEvent(TRADE_STORED)
  async onTradeStored(payload: TradeStoredPayload): Promise<void> {
    const { trade } = payload;
    try {
      const book = await this.book(trade.userId);
      const rules = await this.rulesFor(trade.userId);
      const entry = book.settle(settlementTrade(trade), rules);
      if (entry) await this.store(trade.userId, entry);
    } catch (e) {
      this.logger.error({ msg: 'trade not settled', tradeId: trade.exchangeTradeId, err: e });
    }
  }

  private book(userId: string): Promise<FundsBook> {
    const ready = this.books.get(userId);
    if (ready) return Promise.resolve(ready);
    let loading = this.loads.get(userId);
    if (!loading) {
      loading = this.build(userId).finally(() => this.loads.delete(userId));
      this.loads.set(userId, loading);
    }
    return loading;
  }

  private async build(userId: string): Promise<FundsBook> {
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
    const [rows, trades, reservations, rules] = await Promise.all([
      this.entries.find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } }),
      this.portfolio.tradesOf(userId),
      this.reservationSource(userId),
      this.rulesFor(userId),
    ]);
    const existing = this.books.get(userId);
    if (existing) return existing;
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
    for (const { orderId, amountPaise } of reservations) {
      if (amountPaise > 0) book.ledger.reserve(orderId, amountPaise);
    }
    this.books.set(userId, book);
    for (const entry of missing) await this.store(userId, entry);
    if (missing.length > 0) {
      this.logger.warn({ msg: 'trades settled at rebuild', userId, count: missing.length });
    }
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

function settlementTrade(trade: TradeRecord): SettlementTrade {
  return {
    tradeKey: `${trade.segment}|${trade.exchangeTradeId}`,
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
