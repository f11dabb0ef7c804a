import type { Instrument } from '@app/dhan/types';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { ClusterMutex } from '../cluster/cluster-mutex';
import { DataSource, type Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { BadUserInputError } from '../common/errors/domain-error';
import { istDate } from '../trading/ist-date';
import { RiskLimitsEntity } from './entities/risk-limits.entity';
import { TradingStateEntity } from './entities/trading-state.entity';
import type { FundsLedger } from './funds-ledger';
import {
  FundsService,
  type FundsView,
  type ReservationRow,
  type ReservationSource,
  type StoredReservation,
} from './funds.service';
import { RiskEngine, type RiskVerdict } from './risk-engine';
import { RiskFactsService, type PriceWait, type WorkingOrderSource } from './risk-facts.service';
import { DEFAULT_RISK_LIMITS, validateRiskLimits, type RiskLimits } from './risk-limits';
import { TradingState, type OrderToCheck } from './risk.types';

export type TradingScope = 'GLOBAL' | 'USER';

/** A basket's risk check: every leg held, or the first leg denied (nothing held). */
export type BasketVerdict =
  | {
      pass: true;
      holds: Array<{ holdId: string; amountPaise: number; reducing: boolean }>;
    }
  | { pass: false; leg: number; code: string; message: string };

export interface TradingStateView {
  scope: TradingScope;
  userId: string | null;
  state: TradingState;
  reason: string | null;
  updatedAt: Date;
}

const GLOBAL_ID = 'GLOBAL';
const DEFAULT_LIMITS_ID = 'DEFAULT';

/**
 * RMS around the pure RiskEngine: per-user limits and trading states (database, cached here),
 * funds through FundsService (one ledger per user, see there), and the daily-loss flip to
 * REDUCING. Single instance: the caches are the
 * truth between writes, and every write goes to the database first.
 */
@Injectable()
export class RiskService {
  private readonly logger = new Logger(RiskService.name);
  private readonly limits = new Map<string, RiskLimits>();
  private defaultLimits: RiskLimits | undefined;
  private readonly states = new Map<string, TradingState>();

  constructor(
    private readonly engine: RiskEngine,
    private readonly facts: RiskFactsService,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly fundsLedger: FundsService,
    @Optional() private readonly mutex?: ClusterMutex,
  ) {
    this.fundsLedger.useMarginRules(async (userId) => (await this.riskLimits(userId)).margin);
  }

  private get limitRows(): Repository<RiskLimitsEntity> {
    return this.dataSource.getRepository(RiskLimitsEntity);
  }

  private get stateRows(): Repository<TradingStateEntity> {
    return this.dataSource.getRepository(TradingStateEntity);
  }

  /**
   * Runs one admission of a user's order alone across the cluster (REDIS_URL): under a mutex
   * per user, with the user's funds ledger rebuilt from the database first, so what other
   * instances reserved, released or settled counts and two instances never both approve
   * orders that together exceed the funds; the user's limits and the trading states are read
   * again too (an admin may have changed them on another instance). Without REDIS_URL the
   * section just runs.
   */
  get clustered(): boolean {
    return this.mutex?.clustered === true;
  }

  async admitExclusively<T>(userId: string, section: () => Promise<T>): Promise<T> {
    const mutex = this.mutex;
    if (!mutex?.clustered) return section();
    return mutex.exclusive(`funds:${userId}`, async () => {
      // Limits and trading states set on another instance count for this order too.
      this.limits.delete(userId);
      this.defaultLimits = undefined;
      this.states.delete(userId);
      this.states.delete(GLOBAL_ID);
      await this.fundsLedger.reload(userId);
      return section();
    });
  }

  /** The OMS tells RMS where working orders' reservations are (called once at module init). */
  useReservationSource(source: ReservationSource): void {
    this.fundsLedger.useReservationSource(source);
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
    /**
     * A basket leg: the hold its basket took for it (if any is left) is released in the same
     * step, and the rate window is not checked again (the basket counted once).
     */
    fundedBy?: string,
  ): Promise<RiskVerdict> {
    return this.run(order, instrument, priceWait, fundedBy);
  }

  /**
   * A basket's all-or-nothing check: each leg in turn runs the ordered checks, with the legs
   * before it counted against the open-order cap, and its margin reserved as a hold under its
   * order id (the basket's hold id for the leg) so the next leg sees funds net of it (the
   * combined margin). The basket counts as one order against the rate window.
   * The first denial releases every hold taken and is returned with its leg's index; when all
   * pass the holds stay until each leg's own check releases its hold (`check(.., fundedBy)`)
   * or the caller releases it (`releaseHold`). Nothing is sent or stored here.
   */
  async holdBasket(
    legs: ReadonlyArray<{ order: OrderToCheck; instrument: Instrument | undefined }>,
    priceWait?: PriceWait,
  ): Promise<BasketVerdict> {
    const held: Array<{ holdId: string; amountPaise: number; reducing: boolean }> = [];
    for (let i = 0; i < legs.length; i++) {
      const { order, instrument } = legs[i];
      const verdict = await this.run(order, instrument, priceWait, undefined, i);
      if (!verdict.pass) {
        for (const h of held) await this.release(order.userId, h.holdId);
        return { pass: false, leg: i, code: verdict.code, message: verdict.message };
      }
      held.push({
        holdId: order.orderId,
        amountPaise: verdict.reservation?.amountPaise ?? 0,
        reducing: verdict.reducing === true,
      });
    }
    // The basket is one order against the rate window; its legs' own checks skip the rate.
    if (legs.length > 0) this.engine.recordOrder(legs[0].order.userId);
    return { pass: true, holds: held };
  }

  /** Drops a basket hold that no leg check used (0 when there is none). */
  releaseHold(userId: string, holdId: string): Promise<number> {
    return this.release(userId, holdId);
  }

  private async run(
    order: OrderToCheck,
    instrument: Instrument | undefined,
    priceWait: PriceWait | undefined,
    fundedBy: string | undefined,
    /** Set for a basket's trial: how many legs came before this one. */
    earlier?: number,
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
    const parts = this.facts.parts(order, instrument, others);
    if (earlier !== undefined) {
      parts.account = {
        ...parts.account,
        openOrderCount: parts.account.openOrderCount + earlier,
      };
    }
    // From here to the engine's reservation is one synchronous step: the hold becomes the leg's.
    if (fundedBy !== undefined) funds.release(fundedBy);
    const verdict = this.engine.check(
      order,
      { now, today: istDate(now), globalState, userState, limits, funds, ...parts },
      earlier !== undefined ? 'TRIAL' : fundedBy !== undefined ? 'BASKET_LEG' : undefined,
    );
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

  // ---- funds (FundsService) ----

  ledger(userId: string): Promise<FundsLedger> {
    return this.fundsLedger.ledger(userId);
  }

  funds(userId: string): Promise<FundsView> {
    return this.fundsLedger.funds(userId);
  }

  /** What the order holds now, in the form the OMS stores with it (after a check). */
  reservationOf(userId: string, orderId: string): StoredReservation {
    return this.fundsLedger.reservationOf(userId, orderId);
  }

  /** Sets an order's reservation back to what it stored (a refused modification). */
  restoreReservation(userId: string, row: ReservationRow): Promise<StoredReservation> {
    return this.fundsLedger.restoreReservation(userId, row);
  }

  /**
   * The order ended (cancelled, rejected, expired, traded) with `filledQuantity` filled: its
   * unfilled units are released; its filled ones stay held until their trades are settled.
   */
  endReservation(
    userId: string,
    row: ReservationRow,
    filledQuantity: number,
  ): Promise<StoredReservation> {
    return this.fundsLedger.endReservation(userId, row, filledQuantity);
  }

  /** A sliced order's child was stored: its trades settle the parent's reservation. */
  linkSlice(userId: string, childId: string, parentId: string): Promise<void> {
    return this.fundsLedger.linkSlice(userId, childId, parentId);
  }

  /** The OMS wrote a changed reservation (called after the write). */
  reservationStored(userId: string): void {
    this.fundsLedger.reservationStored(userId);
  }

  /** Drops a hold or reservation in full (a basket hold no leg took). */
  release(userId: string, orderId: string): Promise<number> {
    return this.fundsLedger.release(userId, orderId);
  }

  /**
   * Credits (positive) or debits (negative) a user's balance through the funds ledger (an
   * ADJUSTMENT entry, see FundsService.adjust). Returns the funds before and after. The one place
   * the risk desk moves funds; the caller audits it.
   */
  async adjustFunds(
    userId: string,
    deltaPaise: number,
    reason: string,
  ): Promise<{ before: FundsView; after: FundsView }> {
    // With REDIS_URL, on the ledger rebuilt under the user's mutex: a debit is checked against
    // what every instance reserved.
    return this.admitExclusively(userId, async () => {
      const before = await this.fundsLedger.funds(userId);
      await this.fundsLedger.adjust(userId, deltaPaise, reason);
      return { before, after: await this.fundsLedger.funds(userId) };
    });
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
