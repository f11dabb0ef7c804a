import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { Instrument } from '@app/dhan/types';
import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, In, Not, type Repository } from 'typeorm';
import { LeadershipService } from '../cluster/leadership.service';
import { Clock } from '../common/clock';
import { BadUserInputError, DomainError, NotFoundError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { KeyedSerialQueue } from '../common/keyed-serial-queue';
import { InstrumentsService } from '../instruments/instruments.service';
import { MarketDataService } from '../market-data/market-data.service';
import { BasketService } from '../orders/baskets/basket.service';
import type { PlaceOrderCommand } from '../orders/order-terms';
import { OrdersService } from '../orders/orders.service';
import { AlertActions } from './alert-actions';
import { AlertBook, AlertRule, type AlertSink } from './alert-book';
import { AlertFeedHolds } from './alert-feed-holds';
import {
  HISTORY_PER_ALERT,
  firingView,
  type AlertAction,
  type AlertView,
  type CreateAlertCommand,
} from './alert-model';
import {
  AlertActionStatus,
  AlertCondition,
  AlertMetric,
  AlertStatus,
  DEFAULT_REARM_FRACTION,
  MAX_ALERTS_PER_USER,
} from './alert-vocabulary';
import { ALERT_FIRED, type AlertFiredEvent } from './alerts.events';
import { AlertEntity, AlertFiringEntity } from './entities/alert.entity';

/**
 * Server-side alerts. Each ACTIVE alert is an AlertRule in the AlertBook, evaluated on the tick
 * path: MarketDataService tells the records each drain of the tick store found changed, and the
 * book compares the alerts on those (stale records skipped). An alert's instrument is held on
 * the feed (a CLIENT reference `alert:<id>`; an IV alert also its underlying, and its chain is
 * kept analysed) while the alert is ACTIVE.
 *
 * A firing is claimed in the database before anything else (armed -> false where it was true,
 * in the transaction that stores the firing), so one crossing is one firing even with several
 * instances evaluating; an alert with an order or basket becomes TRIGGERED in the same step and
 * the firing is stored PENDING before the placement starts. The order's clientOrderId is
 * `ATO-<firing id>` (a basket's legs `ATO-<firing id>-<leg>`), so the placement a restart
 * repeats (PENDING firings are finished at boot) is the same order, never a second one.
 */
@Injectable()
export class AlertsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertsService.name);
  private readonly book = new AlertBook();
  /** Firing, re-arm and delete of one alert run one after another. */
  private readonly queue = new KeyedSerialQueue<string>();
  private stopListening: (() => void) | undefined;
  /** What this instance did, for /metrics. */
  readonly stats = {
    /** Drains of the tick store evaluated, and the time spent evaluating them (ms). */
    evaluations: 0,
    evaluationMs: 0,
    /** Firings this instance claimed (stored), and ATO placements by outcome. */
    fired: 0,
    actionsDone: 0,
    actionsFailed: 0,
  };
  private loaded: Promise<void> = Promise.resolve();
  private closing = false;
  private readonly iv = (key: number): number => this.marketData.ivOf(key);
  private readonly sink: AlertSink = {
    fired: (rule, value) => this.onFired(rule, value),
    rearmed: (rule) => this.onRearmed(rule),
  };

  constructor(
    private readonly dataSource: DataSource,
    private readonly marketData: MarketDataService,
    private readonly instruments: InstrumentsService,
    private readonly orders: OrdersService,
    private readonly baskets: BasketService,
    private readonly feed: AlertFeedHolds,
    private readonly actions: AlertActions,
    private readonly events: EventEmitter2,
    private readonly clock: Clock,
    @Optional() private readonly leadership?: LeadershipService,
  ) {}

  private get alerts(): Repository<AlertEntity> {
    return this.dataSource.getRepository(AlertEntity);
  }

  private get firings(): Repository<AlertFiringEntity> {
    return this.dataSource.getRepository(AlertFiringEntity);
  }

  onApplicationBootstrap(): void {
    this.loaded = this.load().catch((e: unknown) =>
      this.logger.error({ msg: 'alerts not loaded', err: e }),
    );
    // Several instances: only the leader has ticks. One that takes over loads the alerts
    // created elsewhere since its boot (and drops those deleted or triggered meanwhile).
    this.leadership?.on('acquired', this.onLeadership);
  }

  private readonly onLeadership = (): void => {
    this.loaded = this.loaded
      .then(() => this.reload())
      .catch((e: unknown) => this.logger.error({ msg: 'alerts not reloaded', err: e }));
  };

  /** Resolves once the stored alerts are live and PENDING firings were placed (tests). */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  onModuleDestroy(): void {
    this.closing = true;
    this.leadership?.off('acquired', this.onLeadership);
    this.stopListening?.();
    this.feed.releaseAll();
  }

  /** Alerts on the tick path now (the bench and metrics read it). */
  get active(): number {
    return this.book.size;
  }

  // ---- the API ----

  /**
   * createAlert. Bad input (unknown metric or condition, a level that is not a number, IV on
   * an instrument that is not an option, both an order and a basket, an order placeOrder
   * would refuse) is BAD_USER_INPUT; an unknown instrument NOT_FOUND; more than
   * MAX_ALERTS_PER_USER active alerts or a full feed CAPACITY_EXCEEDED. Nothing is stored then.
   * A new alert is checked at once against the instrument's latest (fresh) state.
   */
  async create(userId: string, input: CreateAlertCommand): Promise<AlertView> {
    await this.loaded;
    if (!Object.values(AlertMetric).includes(input.metric)) {
      throw new BadUserInputError('Unknown metric');
    }
    if (!Object.values(AlertCondition).includes(input.condition)) {
      throw new BadUserInputError('condition must be ABOVE or BELOW');
    }
    if (!Number.isFinite(input.level)) throw new BadUserInputError('level must be a number');
    const band = input.rearmBand ?? Math.abs(input.level) * DEFAULT_REARM_FRACTION;
    if (!Number.isFinite(band) || band < 0) {
      throw new BadUserInputError('rearmBand must be a number >= 0');
    }
    await this.instruments.ready();
    const instrument = this.instruments.get(input.segment, input.securityId);
    if (!instrument) {
      throw new NotFoundError(`Unknown instrument ${input.segment} ${input.securityId}`);
    }
    if (input.metric === AlertMetric.IV && !isOption(instrument)) {
      throw new BadUserInputError('IV alerts are for options only');
    }
    const action = this.actions.validate(input);
    const active = await this.alerts.count({ where: { userId, status: AlertStatus.ACTIVE } });
    if (active >= MAX_ALERTS_PER_USER) {
      throw new DomainError(
        ErrorCode.CAPACITY_EXCEEDED,
        `At most ${MAX_ALERTS_PER_USER} active alerts per dealer; delete some first`,
      );
    }
    const now = this.clock.now();
    const row: AlertEntity = {
      id: randomUUID(),
      userId,
      segment: input.segment,
      securityId: input.securityId,
      metric: input.metric,
      condition: input.condition,
      level: input.level,
      rearmBand: band,
      status: AlertStatus.ACTIVE,
      armed: true,
      action: action === null ? null : JSON.stringify(action),
      firedCount: 0,
      lastFiredAt: null,
      createdAt: now,
      updatedAt: now,
    };
    this.feed.hold(row, instrument);
    try {
      await this.alerts.insert(row);
    } catch (e) {
      this.feed.release(row.id);
      throw e;
    }
    const rule = ruleOf(row, this.feed.keyOf(row));
    this.book.add(rule);
    this.book.evaluateOne(rule, this.feed.recordOf(row), this.iv, this.sink);
    return (await this.views([row]))[0];
  }

  /** deleteAlert: no longer evaluated or listed; its feed references are released. */
  async delete(userId: string, id: string): Promise<AlertView> {
    const row = await this.owned(userId, id);
    return this.queue.run(id, async () => {
      await this.alerts.update(
        { id },
        { status: AlertStatus.DELETED, updatedAt: this.clock.now() },
      );
      this.book.remove(id);
      this.feed.release(id);
      const after = await this.alerts.findOneByOrFail({ id: row.id });
      return (await this.views([after]))[0];
    });
  }

  /** The dealer's alerts (ACTIVE and TRIGGERED), newest first, with their recent firings. */
  async list(userId: string): Promise<AlertView[]> {
    const rows = await this.alerts.find({
      where: { userId, status: Not(AlertStatus.DELETED) },
      order: { createdAt: 'DESC' },
      take: MAX_ALERTS_PER_USER * 2,
    });
    return this.views(rows);
  }

  async get(userId: string, id: string): Promise<AlertView> {
    return (await this.views([await this.owned(userId, id)]))[0];
  }

  // ---- the tick path and firings ----

  private onFired(rule: AlertRule, value: number): void {
    const firedAt = this.clock.now();
    void this.queue
      .run(rule.id, () => this.fire(rule, value, firedAt))
      .catch((e: unknown) =>
        this.logger.error({ msg: 'alert firing not stored', alertId: rule.id, err: e }),
      );
  }

  private onRearmed(rule: AlertRule): void {
    void this.queue
      .run(rule.id, async () => {
        await this.alerts.update(
          { id: rule.id, status: AlertStatus.ACTIVE },
          { armed: true, updatedAt: this.clock.now() },
        );
      })
      .catch((e: unknown) =>
        this.logger.error({ msg: 'alert re-arm not stored', alertId: rule.id, err: e }),
      );
  }

  /** Claims the firing in the database and stores it, then tells the owner and acts. */
  private async fire(rule: AlertRule, value: number, firedAt: Date): Promise<void> {
    const firing: AlertFiringEntity = {
      id: randomUUID(),
      alertId: rule.id,
      userId: rule.userId,
      value,
      firedAt,
      actionStatus: rule.oneShot ? AlertActionStatus.PENDING : AlertActionStatus.NONE,
      orderId: null,
      basketId: null,
      message: null,
    };
    const claimed = await this.dataSource.transaction(async (em) => {
      const result = await em
        .createQueryBuilder()
        .update(AlertEntity)
        .set({
          armed: false,
          status: rule.oneShot ? AlertStatus.TRIGGERED : AlertStatus.ACTIVE,
          firedCount: () => 'fired_count + 1',
          lastFiredAt: firedAt,
          updatedAt: firedAt,
        })
        .where('id = :id AND armed = :armed AND status = :status', {
          id: rule.id,
          armed: true,
          status: AlertStatus.ACTIVE,
        })
        .execute();
      if (!result.affected) return false;
      await em.insert(AlertFiringEntity, firing);
      return true;
    });
    if (!claimed) return;
    this.stats.fired++;
    if (rule.oneShot) {
      this.book.remove(rule.id);
      this.feed.release(rule.id);
    }
    const alert = await this.alerts.findOneByOrFail({ id: rule.id });
    this.publish(alert, firing);
    if (alert.action !== null) await this.act(alert, firing);
  }

  /** Places a PENDING firing's order or basket, then stores and streams the outcome. */
  private async act(alert: AlertEntity, firing: AlertFiringEntity): Promise<void> {
    const action = JSON.parse(alert.action ?? 'null') as AlertAction | null;
    if (action === null || firing.actionStatus !== AlertActionStatus.PENDING) return;
    let done: Partial<AlertFiringEntity>;
    try {
      done = await this.actions.place(alert.userId, alert.id, firing.id, action);
    } catch (e) {
      // Stopping: left PENDING, finished at the next boot. Otherwise the refusal is the outcome.
      if (this.closing) return;
      done = {
        actionStatus: AlertActionStatus.FAILED,
        message: (e instanceof Error ? e.message : String(e)).slice(0, 300),
      };
    }
    await this.firings.update({ id: firing.id }, done);
    if (done.actionStatus === AlertActionStatus.DONE) this.stats.actionsDone++;
    else this.stats.actionsFailed++;
    this.publish(alert, { ...firing, ...done });
  }

  private publish(alert: AlertEntity, firing: AlertFiringEntity): void {
    const event: AlertFiredEvent = { userId: alert.userId, firing: firingView(alert, firing) };
    this.events.emit(ALERT_FIRED, event);
  }

  // ---- boot ----

  private async load(): Promise<void> {
    await this.instruments.ready();
    const rows = await this.alerts.find({ where: { status: AlertStatus.ACTIVE } });
    for (const row of rows) this.activate(row);
    this.stopListening = this.marketData.onChangedInstruments((records) => {
      const started = performance.now();
      this.book.evaluate(records, this.iv, this.sink);
      this.stats.evaluations++;
      this.stats.evaluationMs += performance.now() - started;
    });
    if (rows.length > 0) this.logger.log({ msg: 'alerts loaded', active: rows.length });
    // Firings stored but not yet placed when the process stopped: placed now, once.
    await this.orders.whenRecovered();
    await this.baskets.whenResumed();
    const pending = await this.firings.find({
      where: { actionStatus: AlertActionStatus.PENDING },
    });
    for (const firing of pending) {
      const alert = await this.alerts.findOneBy({ id: firing.alertId });
      if (!alert) continue;
      this.logger.log({ msg: 'alert order placed after a restart', firingId: firing.id });
      await this.queue.run(alert.id, () => this.act(alert, firing));
    }
  }

  /** The stored ACTIVE alerts made live again: new ones added, ended ones dropped. */
  private async reload(): Promise<void> {
    const rows = await this.alerts.find({ where: { status: AlertStatus.ACTIVE } });
    const active = new Set(rows.map((r) => r.id));
    for (const id of this.book.ids()) {
      if (!active.has(id)) {
        this.book.remove(id);
        this.feed.release(id);
      }
    }
    let added = 0;
    for (const row of rows) {
      if (this.book.get(row.id) !== undefined) continue;
      this.activate(row);
      added++;
    }
    if (added > 0) this.logger.log({ msg: 'alerts taken over', added });
  }

  /** One stored ACTIVE alert on the tick path, its instrument on the feed (when there is room). */
  private activate(row: AlertEntity): void {
    const instrument = this.instruments.get(
      row.segment as PlaceOrderCommand['segment'],
      row.securityId,
    );
    if (!instrument) {
      this.logger.warn({ msg: 'alert on an instrument no longer listed', alertId: row.id });
      return;
    }
    try {
      this.feed.hold(row, instrument);
    } catch (e) {
      this.logger.warn({ msg: 'alert instrument not streamed', alertId: row.id, err: String(e) });
    }
    this.book.add(ruleOf(row, this.feed.keyOf(row)));
  }

  // ---- parts ----

  private async owned(userId: string, id: string): Promise<AlertEntity> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.alerts.findOneBy({ id }) : null;
    if (!row || row.userId !== userId || row.status === AlertStatus.DELETED) {
      throw new NotFoundError(`No alert ${id}`);
    }
    return row;
  }

  private async views(rows: AlertEntity[]): Promise<AlertView[]> {
    if (rows.length === 0) return [];
    const firings = await this.firings.find({
      where: { alertId: In(rows.map((r) => r.id)) },
      order: { firedAt: 'DESC' },
    });
    return rows.map((row) => {
      const live = this.book.get(row.id);
      return {
        id: row.id,
        userId: row.userId,
        segment: row.segment as PlaceOrderCommand['segment'],
        securityId: row.securityId,
        metric: row.metric as AlertMetric,
        condition: row.condition as AlertCondition,
        level: row.level,
        rearmBand: row.rearmBand,
        status: row.status as AlertStatus,
        armed: live?.armed ?? row.armed,
        action: JSON.parse(row.action ?? 'null') as AlertAction | null,
        firedCount: row.firedCount,
        lastFiredAt: row.lastFiredAt,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        firings: firings
          .filter((f) => f.alertId === row.id)
          .slice(0, HISTORY_PER_ALERT)
          .map((f) => firingView(row, f)),
      };
    });
  }
}

function ruleOf(row: AlertEntity, key: number): AlertRule {
  return new AlertRule(
    row.id,
    row.userId,
    key,
    row.metric as AlertMetric,
    row.condition as AlertCondition,
    row.level,
    row.rearmBand,
    row.action !== null,
    row.armed,
  );
}

function isOption(instrument: Instrument): boolean {
  return instrument.optionType === 'CE' || instrument.optionType === 'PE';
}
