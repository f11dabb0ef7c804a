import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { topicStream } from '../common/subscriptions/topic-stream';
import { InstrumentsService } from '../instruments/instruments.service';
import { instrumentModelOf } from '../instruments/models/instrument-model';
import { ALERT_FIRED, type AlertFiredEvent } from './alerts.events';
import type { AlertFiringView, AlertOrderTerms, AlertView } from './alert-model';
import { AlertsService } from './alerts.service';
import { AlertIdArgs, CreateAlertArgs, type AlertOrderInput } from './dto/alert.inputs';
import { AlertFiringModel, AlertModel } from './models/alert.model';

/** Cap of firings queued for one slow subscriber. */
const MAX_QUEUED = 1_000;

const terms = ({ instrument, ...rest }: AlertOrderInput): AlertOrderTerms => ({
  ...rest,
  segment: instrument.segment,
  securityId: instrument.securityId,
});

/** createAlert, deleteAlert, alerts, alert, and the `alerts` subscription: the caller's only. */
@Resolver(() => AlertModel)
export class AlertsResolver {
  constructor(
    private readonly service: AlertsService,
    private readonly instruments: InstrumentsService,
    private readonly events: EventEmitter2,
  ) {}

  @Mutation(() => AlertModel, {
    description:
      'An alert on a metric crossing a level, evaluated server-side on every fresh tick of the ' +
      'instrument (never while it is stale), with hysteresis (rearmBand). With order or basket ' +
      'it places that once when it fires, through the risk checks. At most 200 active alerts ' +
      'per dealer (CAPACITY_EXCEEDED, as for a full feed).',
  })
  async createAlert(
    @CurrentUser() user: Principal,
    @Args() { input }: CreateAlertArgs,
  ): Promise<AlertModel> {
    return this.toModel(
      await this.service.create(user.id, {
        segment: input.instrument.segment,
        securityId: input.instrument.securityId,
        metric: input.metric,
        condition: input.condition,
        level: input.level,
        rearmBand: input.rearmBand,
        order: input.order ? terms(input.order) : null,
        basket: input.basket
          ? { legs: (input.basket.legs ?? []).map(terms), hedgeFirst: input.basket.hedgeFirst }
          : null,
      }),
    );
  }

  @Mutation(() => AlertModel, { description: 'Stops it; its history stays readable here.' })
  async deleteAlert(
    @CurrentUser() user: Principal,
    @Args() { id }: AlertIdArgs,
  ): Promise<AlertModel> {
    return this.toModel(await this.service.delete(user.id, id));
  }

  @Query(() => [AlertModel], {
    description: "The caller's ACTIVE and TRIGGERED alerts with their firings, newest first.",
  })
  async alerts(@CurrentUser() user: Principal): Promise<AlertModel[]> {
    return (await this.service.list(user.id)).map((a) => this.toModel(a));
  }

  @Query(() => AlertModel, { nullable: true, description: "NOT_FOUND unless it is the caller's." })
  async alert(@CurrentUser() user: Principal, @Args() { id }: AlertIdArgs): Promise<AlertModel> {
    return this.toModel(await this.service.get(user.id, id));
  }

  @Subscription(() => AlertFiringModel, {
    name: 'alerts',
    description:
      "Firings of the caller's alerts (only theirs); one with an order or basket comes again " +
      'once that is placed (actionStatus DONE or FAILED).',
    resolve(this: AlertsResolver, payload: { alerts: AlertFiringView }) {
      return this.toFiringModel(payload.alerts);
    },
  })
  alertsStream(@CurrentUser() user: Principal): AsyncIterableIterator<{ alerts: AlertFiringView }> {
    return topicStream<AlertFiredEvent, { alerts: AlertFiringView }>(this.events, ALERT_FIRED, {
      filter: (event) => event.userId === user.id,
      map: (event) => ({ alerts: event.firing }),
      maxQueued: MAX_QUEUED,
    });
  }

  private toModel(alert: AlertView): AlertModel {
    return {
      id: alert.id,
      instrument: this.instrumentModel(alert),
      metric: alert.metric,
      condition: alert.condition,
      level: alert.level,
      rearmBand: alert.rearmBand,
      status: alert.status,
      armed: alert.armed,
      placesOrder: alert.action !== null,
      firedCount: alert.firedCount,
      lastFiredAt: alert.lastFiredAt,
      firings: alert.firings.map((f) => this.toFiringModel(f)),
      createdAt: alert.createdAt,
      updatedAt: alert.updatedAt,
    };
  }

  private toFiringModel(f: AlertFiringView): AlertFiringModel {
    return {
      id: f.id,
      alertId: f.alertId,
      instrument: this.instrumentModel(f),
      metric: f.metric,
      condition: f.condition,
      level: f.level,
      value: f.value,
      firedAt: f.firedAt,
      actionStatus: f.actionStatus,
      orderId: f.orderId,
      basketId: f.basketId,
      message: f.message,
    };
  }

  private instrumentModel(a: Pick<AlertView, 'segment' | 'securityId'>) {
    return instrumentModelOf(
      this.instruments.get(a.segment, a.securityId),
      a.segment,
      a.securityId,
    );
  }
}
