import type { Instrument } from '@app/dhan/types';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { BadUserInputError } from '../common/errors/domain-error';
import { istDate } from '../trading/ist-date';
import { FundsAccountEntity } from './entities/funds-account.entity';
import { RiskLimitsEntity } from './entities/risk-limits.entity';
import { TradingStateEntity } from './entities/trading-state.entity';
import { FundsLedger, type FundsSnapshot } from './funds-ledger';
import { RiskEngine, type RiskVerdict } from './risk-engine';
import { RiskFactsService, type PriceWait, type WorkingOrderSource } from './risk-facts.service';
import { DEFAULT_RISK_LIMITS, validateRiskLimits, type RiskLimits } from './risk-limits';
import { RISK_OPTIONS, type RiskOptions } from './risk.options';
import { TradingState, type OrderToCheck } from './risk.types';

export type TradingScope = 'GLOBAL' | 'USER';

export interface TradingStateView {
  scope: TradingScope;
  userId: string | null;
  state: TradingState;
  reason: string | null;
  updatedAt: Date;
}

/** Margin still held by a user's working orders, to rebuild the ledger after a restart. */
export type ReservationSource = (
  userId: string,
) => Promise<Array<{ orderId: string; amountPaise: number }>>;

const GLOBAL_ID = 'GLOBAL';
const DEFAULT_LIMITS_ID = 'DEFAULT';

/**
 * RMS around the pure RiskEngine: per-user limits and trading states (database, cached here),
 * one FundsLedger per user (built on first use from funds_accounts plus the reservations of
 * working orders), and the daily-loss flip to REDUCING. Single instance: the caches are the
 * truth between writes, and every write goes to the database first.
 */
@Injectable()
export class RiskService {
  private readonly logger = new Logger(RiskService.name);
  private readonly limits = new Map<string, RiskLimits>();
  private defaultLimits: RiskLimits | undefined;
  private readonly states = new Map<string, TradingState>();
  private readonly ledgers = new Map<string, FundsLedger>();
  private readonly ledgerLoads = new Map<string, Promise<FundsLedger>>();
  private reservationSource: ReservationSource = () => Promise.resolve([]);

  constructor(
    private readonly engine: RiskEngine,
    private readonly facts: RiskFactsService,
    private readonly dataSource: DataSource,
    @Inject(RISK_OPTIONS) private readonly options: RiskOptions,
    private readonly clock: Clock,
  ) {}

  private get limitRows(): Repository<RiskLimitsEntity> {
    return this.dataSource.getRepository(RiskLimitsEntity);
  }

  private get stateRows(): Repository<TradingStateEntity> {
    return this.dataSource.getRepository(TradingStateEntity);
  }

  private get fundsRows(): Repository<FundsAccountEntity> {
    return this.dataSource.getRepository(FundsAccountEntity);
  }

  /** The OMS tells RMS where working orders' reservations are (called once at module init). */
  useReservationSource(source: ReservationSource): void {
    this.reservationSource = source;
  }

  /** The OMS tells RMS where a user's working orders are (called once at module init). */
  useWorkingOrderSource(source: WorkingOrderSource): void {
    this.facts.useWorkingOrderSource(source);
  }

  /**
   * Runs the ordered checks on facts RMS gathers itself (RiskFactsService: tick store,
   * portfolio, the user's other working orders; a market order may first wait `priceWait` for
   * a live price). Everything async (working orders, limits, states, ledger) is loaded first;
   * the context is then built and checked in one synchronous step, so the funds reservation is
   * atomic (see FundsLedger). A FLIP_USER_TO_REDUCING signal is persisted before returning.
   */
  async check(
    order: OrderToCheck,
    instrument: Instrument | undefined,
    priceWait?: PriceWait,
  ): Promise<RiskVerdict> {
    await this.facts.waitForPrice(order, instrument, priceWait);
    const [others, limits, globalState, userState, funds] = await Promise.all([
      this.facts.working(order),
      this.riskLimits(order.userId),
      this.tradingState('GLOBAL', null),
      this.tradingState('USER', order.userId),
      this.ledger(order.userId),
    ]);
    const now = Date.now();
    const verdict = this.engine.check(order, {
      now,
      today: istDate(now),
      globalState,
      userState,
      limits,
      funds,
      ...this.facts.parts(order, instrument, others),
    });
    for (const signal of verdict.signals) {
      if (signal.kind !== 'FLIP_USER_TO_REDUCING') continue;
      const current = await this.tradingState('USER', signal.userId);
      if (current !== TradingState.ACTIVE) continue;
      this.logger.warn({
        msg: 'daily loss limit hit: user flipped to REDUCING',
        userId: signal.userId,
        dayPnlPaise: signal.dayPnlPaise,
      });
      await this.setTradingState(
        'USER',
        signal.userId,
        TradingState.REDUCING,
        `Daily loss limit hit (P&L Rs ${(signal.dayPnlPaise / 100).toFixed(2)})`,
      );
    }
    return verdict;
  }

  // ---- funds ----

  /** The user's ledger, built once: balance and used from funds_accounts, working reservations. */
  ledger(userId: string): Promise<FundsLedger> {
    const ready = this.ledgers.get(userId);
    if (ready) return Promise.resolve(ready);
    let loading = this.ledgerLoads.get(userId);
    if (!loading) {
      loading = this.buildLedger(userId).finally(() => this.ledgerLoads.delete(userId));
      this.ledgerLoads.set(userId, loading);
    }
    return loading;
  }

  async funds(userId: string): Promise<FundsSnapshot> {
    return (await this.ledger(userId)).snapshot();
  }

  reservationOf(userId: string, orderId: string): number {
    return this.ledgers.get(userId)?.reservationOf(orderId) ?? 0;
  }

  /** Sets an order's reservation back (a refused modification); lowering always succeeds. */
  async restoreReservation(userId: string, orderId: string, amountPaise: number): Promise<void> {
    (await this.ledger(userId)).reserve(orderId, amountPaise);
  }

  /** The order ended (cancelled, rejected, expired, traded): drop what it still holds. */
  async release(userId: string, orderId: string): Promise<number> {
    return (await this.ledger(userId)).release(orderId);
  }

  /**
   * `filled` of the `remainingBefore` unfilled units traded: that share of the order's
   * reservation becomes used margin (all of it when the rest is filled), persisted.
   */
  async consumeFill(
    userId: string,
    orderId: string,
    filled: number,
    remainingBefore: number,
  ): Promise<void> {
    if (filled <= 0) return;
    const ledger = await this.ledger(userId);
    const held = ledger.reservationOf(orderId);
    const amount = filled >= remainingBefore ? held : Math.floor((held * filled) / remainingBefore);
    if (amount <= 0) return;
    ledger.consume(orderId, amount);
    await this.fundsRows.update(
      { userId },
      { usedPaise: ledger.snapshot().usedPaise, updatedAt: this.clock.now() },
    );
  }

  /**
   * Credits (positive) or debits (negative) a user's paper balance, persisted; a debit larger
   * than what is available is BAD_USER_INPUT and changes nothing. Returns the funds before and
   * after. The one place the risk desk moves funds.
   */
  async adjustFunds(
    userId: string,
    deltaPaise: number,
  ): Promise<{ before: FundsSnapshot; after: FundsSnapshot }> {
    if (!Number.isSafeInteger(deltaPaise) || deltaPaise === 0) {
      throw new BadUserInputError('The amount must be a non-zero number of paise');
    }
    const ledger = await this.ledger(userId);
    const before = ledger.snapshot();
    if (deltaPaise < 0 && before.availablePaise + deltaPaise < 0) {
      throw new BadUserInputError('A debit cannot exceed the available funds');
    }
    ledger.adjustBalance(deltaPaise);
    const after = ledger.snapshot();
    await this.fundsRows.update(
      { userId },
      { balancePaise: after.balancePaise, updatedAt: this.clock.now() },
    );
    return { before, after };
  }

  private async buildLedger(userId: string): Promise<FundsLedger> {
    let row = await this.fundsRows.findOne({ where: { userId } });
    if (!row) {
      const opening = this.options.paperFundsRupees * 100;
      await this.fundsRows
        .createQueryBuilder()
        .insert()
        .values({ userId, balancePaise: opening, usedPaise: 0, updatedAt: this.clock.now() })
        .orIgnore()
        .execute();
      row = await this.fundsRows.findOneOrFail({ where: { userId } });
    }
    const ledger = new FundsLedger(row.balancePaise);
    if (row.usedPaise > 0) ledger.consume('opening-used', row.usedPaise);
    for (const { orderId, amountPaise } of await this.reservationSource(userId)) {
      if (amountPaise > 0) ledger.reserve(orderId, amountPaise);
    }
    // A concurrent caller may have built it between our awaits: keep the first one.
    const existing = this.ledgers.get(userId);
    if (existing) return existing;
    this.ledgers.set(userId, ledger);
    return ledger;
  }

  // ---- trading state ----

  async tradingState(scope: TradingScope, userId: string | null): Promise<TradingState> {
    const id = stateId(scope, userId);
    const cached = this.states.get(id);
    if (cached !== undefined) return cached;
    const row = await this.stateRows.findOne({ where: { id } });
    const state = (row?.state as TradingState | undefined) ?? TradingState.ACTIVE;
    if (!this.states.has(id)) this.states.set(id, state);
    return this.states.get(id) ?? state;
  }

  async tradingStateView(scope: TradingScope, userId: string | null): Promise<TradingStateView> {
    const id = stateId(scope, userId);
    const row = await this.stateRows.findOne({ where: { id } });
    return {
      scope,
      userId: scope === 'USER' ? userId : null,
      state: (row?.state as TradingState | undefined) ?? TradingState.ACTIVE,
      reason: row?.reason ?? null,
      updatedAt: row?.updatedAt ?? new Date(0),
    };
  }

  async setTradingState(
    scope: TradingScope,
    userId: string | null,
    state: TradingState,
    reason: string | null = null,
  ): Promise<TradingStateView> {
    if (!Object.values(TradingState).includes(state)) {
      throw new BadUserInputError(`Unknown trading state ${String(state)}`);
    }
    const id = stateId(scope, userId);
    const row: TradingStateEntity = {
      id,
      scope,
      userId: scope === 'USER' ? userId : null,
      state,
      reason: reason?.slice(0, 200) ?? null,
      updatedAt: this.clock.now(),
    };
    await this.stateRows.save(row);
    this.states.set(id, state);
    this.logger.log({ msg: 'trading state set', scope, userId, state, reason });
    return { ...row, scope, state };
  }

  // ---- limits ----

  /** Effective limits of a user: their own row, else the default row, else the built-in defaults. */
  async riskLimits(userId: string): Promise<RiskLimits> {
    const cached = this.limits.get(userId);
    if (cached) return cached;
    const row = await this.limitRows.findOne({ where: { id: userId } });
    const limits = row ? parseLimits(row.limits) : await this.defaultRiskLimits();
    if (!this.limits.has(userId)) this.limits.set(userId, limits);
    return this.limits.get(userId) ?? limits;
  }

  /**
   * Stores limits for a user (or the default for everyone when `userId` is null), merged over
   * the current ones; BAD_USER_INPUT with every problem when invalid, nothing stored.
   */
  async setRiskLimits(userId: string | null, change: Partial<RiskLimits>): Promise<RiskLimits> {
    const base = userId === null ? await this.defaultRiskLimits() : await this.riskLimits(userId);
    const next: RiskLimits = {
      ...base,
      ...change,
      margin: {
        ...base.margin,
        ...change.margin,
        productBps: { ...base.margin.productBps, ...change.margin?.productBps },
      },
    };
    const problems = validateRiskLimits(next);
    if (problems.length > 0) throw new BadUserInputError(problems.join('; '));
    await this.limitRows.save({
      id: userId ?? DEFAULT_LIMITS_ID,
      userId,
      limits: JSON.stringify(next),
      updatedAt: this.clock.now(),
    });
    if (userId === null) {
      this.defaultLimits = next;
      // Users without their own row follow the default.
      const own = new Set((await this.limitRows.find({ select: { id: true } })).map((r) => r.id));
      for (const key of [...this.limits.keys()]) if (!own.has(key)) this.limits.delete(key);
    } else {
      this.limits.set(userId, next);
    }
    return next;
  }

  /** The default limits of users without their own row. */
  async defaultRiskLimits(): Promise<RiskLimits> {
    if (this.defaultLimits) return this.defaultLimits;
    const row = await this.limitRows.findOne({ where: { id: DEFAULT_LIMITS_ID } });
    this.defaultLimits ??= row ? parseLimits(row.limits) : DEFAULT_RISK_LIMITS;
    return this.defaultLimits;
  }
}

function stateId(scope: TradingScope, userId: string | null): string {
  if (scope === 'GLOBAL') return GLOBAL_ID;
  if (!userId) throw new BadUserInputError('A USER trading state needs a userId');
  return userId;
}

/** Stored limits over the defaults, so limits added later get their default. */
function parseLimits(json: string): RiskLimits {
  const stored = JSON.parse(json) as Partial<RiskLimits>;
  return {
    ...DEFAULT_RISK_LIMITS,
    ...stored,
    margin: {
      ...DEFAULT_RISK_LIMITS.margin,
      ...stored.margin,
      productBps: { ...DEFAULT_RISK_LIMITS.margin.productBps, ...stored.margin?.productBps },
    },
  };
}
