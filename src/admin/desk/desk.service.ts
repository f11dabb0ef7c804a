import type { ExchangeSegment } from '@app/dhan/types';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Role } from '../../auth/role.enum';
import { UsersService } from '../../auth/users.service';
import { Clock } from '../../common/clock';
import { NotFoundError } from '../../common/errors/domain-error';
import type { Principal } from '../../common/graphql/graphql-context';
import type { PositionKey, PositionView } from '../../execution/domain';
import { PortfolioService, type PositionSnapshot } from '../../execution/portfolio.service';
import { InstrumentsService } from '../../instruments/instruments.service';
import type { InstrumentModel } from '../../instruments/models/instrument.model';
import { instrumentModelOf } from '../../instruments/models/instrument-model';
import { orderModelOf } from '../../orders/models/order-model';
import { positionModelOf, tradeModelOf } from '../../execution/models/execution-model';
import type { FundsModel } from '../../orders/models/order.model';
import type { OrderView } from '../../orders/order-view';
import { OrdersService } from '../../orders/orders.service';
import type { FundsView } from '../../risk/funds.service';
import { RiskService } from '../../risk/risk.service';
import type { ProductType } from '../../trading/order-vocabulary';
import { AuditLogService } from '../audit-log.service';
import type { DeskFilterInput } from './desk.args';
import type {
  DeskDealerModel,
  DeskOrderModel,
  DeskPositionModel,
  DeskSummaryModel,
  DeskTradeModel,
  FundsAdjustmentModel,
} from './desk.models';

/** A stored trade as PortfolioService returns it. */
type TradeRow = Awaited<ReturnType<PortfolioService['searchTrades']>>['rows'][number];

const rupees = (paise: number | bigint): number => Number(paise) / 100;
const round2 = (n: number): number => Math.round(n * 100) / 100;

export function fundsModel(f: FundsView): FundsModel {
  return {
    available: rupees(f.availablePaise),
    used: rupees(f.usedPaise),
    reserved: rupees(f.reservedPaise),
    balance: rupees(f.balancePaise),
    realizedPnl: rupees(f.realizedPnlPaise),
    unrealizedPnl: rupees(f.unrealizedPnlPaise),
    charges: rupees(f.chargesPaise),
  };
}

/** The part of an order the audit log keeps before and after a desk action. */
function orderFacts(o: OrderView) {
  return {
    status: o.status,
    quantity: o.quantity,
    filledQuantity: o.filledQuantity,
    deskNote: o.deskNote,
  };
}

interface Page {
  limit: number;
  offset: number;
}

/**
 * The risk desk: every dealer's orders, trades and positions, the desk summary, and the actions
 * an admin takes on a dealer's behalf (cancel, square-off, funds), each audited with before and
 * after. Reads and commands go through the owning modules' services only.
 */
@Injectable()
export class DeskService {
  constructor(
    private readonly orders: OrdersService,
    private readonly portfolio: PortfolioService,
    private readonly risk: RiskService,
    private readonly users: UsersService,
    private readonly instruments: InstrumentsService,
    private readonly audit: AuditLogService,
    private readonly clock: Clock,
  ) {}

  // ---- reads ----

  async searchOrders(filter: DeskFilterInput | undefined, page: Page) {
    const f = filter ?? {};
    const { total, items } = await this.orders.search(
      {
        userId: f.dealerId,
        segment: f.instrument?.segment,
        securityId: f.instrument?.securityId,
        productType: f.productType,
        statuses: f.status,
        from: f.from,
        to: f.to,
      },
      page,
    );
    const names = await this.usernames();
    return { total, items: items.map((o) => this.orderModel(o, names)) };
  }

  async searchTrades(filter: DeskFilterInput | undefined, page: Page) {
    const f = filter ?? {};
    const { total, rows } = await this.portfolio.searchTrades(
      {
        userId: f.dealerId,
        segment: f.instrument?.segment,
        securityId: f.instrument?.securityId,
        productType: f.productType,
        from: f.from,
        to: f.to,
      },
      page,
    );
    const names = await this.usernames();
    return { total, items: rows.map((t) => this.tradeModel(t, names)) };
  }

  /** Positions (flat ones included) by dealer, instrument and product; `from`/`to` ignored. */
  async searchPositions(filter: DeskFilterInput | undefined, page: Page) {
    const f = filter ?? {};
    const names = await this.usernames();
    const all = this.portfolio
      .allPositions()
      .filter(
        (p) =>
          (f.dealerId === undefined || p.key.userId === f.dealerId) &&
          (f.instrument === undefined ||
            (p.key.segment === f.instrument.segment &&
              p.key.securityId === f.instrument.securityId)) &&
          (f.productType === undefined || p.key.productType === f.productType),
      )
      .map((p) => this.positionModel(p, names))
      .sort(
        (a, b) =>
          a.dealerUsername.localeCompare(b.dealerUsername) ||
          a.instrument.segment.localeCompare(b.instrument.segment) ||
          a.instrument.securityId.localeCompare(b.instrument.securityId) ||
          a.productType.localeCompare(b.productType),
      );
    return { total: all.length, items: all.slice(page.offset, page.offset + page.limit) };
  }

  /** Every dealer (USER role, and anyone holding a position) with exposure, P&L and funds. */
  async summary(top: number): Promise<DeskSummaryModel> {
    const users = await this.users.list();
    const names = new Map(users.map((u) => [u.id, u.username]));
    const positions = this.portfolio.allPositions().map((p) => this.positionModel(p, names));
    const dealerIds = new Set(users.filter((u) => u.role === Role.USER).map((u) => u.id));
    for (const p of positions) dealerIds.add(p.dealerId);
    const dealers: DeskDealerModel[] = [];
    for (const id of dealerIds) {
      const own = positions.filter((p) => p.dealerId === id);
      const open = own.filter((p) => p.netQuantity !== 0);
      dealers.push({
        dealerId: id,
        dealerUsername: names.get(id) ?? id,
        grossExposure: round2(open.reduce((s, p) => s + p.exposure, 0)),
        netExposure: round2(open.reduce((s, p) => s + Math.sign(p.netQuantity) * p.exposure, 0)),
        realizedPnl: round2(own.reduce((s, p) => s + p.realizedPnl, 0)),
        unrealizedPnl: round2(own.reduce((s, p) => s + (p.unrealizedPnl ?? 0), 0)),
        openPositions: open.length,
        funds: fundsModel(await this.risk.funds(id)),
      });
    }
    dealers.sort((a, b) => a.dealerUsername.localeCompare(b.dealerUsername));
    const sum = (pick: (d: DeskDealerModel) => number) =>
      round2(dealers.reduce((s, d) => s + pick(d), 0));
    return {
      dealers,
      grossExposure: sum((d) => d.grossExposure),
      netExposure: sum((d) => d.netExposure),
      realizedPnl: sum((d) => d.realizedPnl),
      unrealizedPnl: sum((d) => d.unrealizedPnl),
      topPositions: positions
        .filter((p) => p.netQuantity !== 0)
        .sort((a, b) => b.exposure - a.exposure)
        .slice(0, top),
      at: this.clock.now(),
    };
  }

  // ---- actions on a dealer's behalf (audited with before and after) ----

  async cancelOrder(actor: Principal, id: string, reason: string): Promise<DeskOrderModel> {
    const before = await this.orders.find(id);
    const note = `Cancelled by the risk desk (${actor.username}): ${reason}`.slice(0, 200);
    const after = await this.orders.cancelForDesk(before.userId, id, {
      actor: actor.username,
      reason,
      note,
    });
    await this.audit.record(actor, 'cancelOrder', id, {
      dealerId: before.userId,
      reason,
      before: orderFacts(before),
      after: orderFacts(after),
    });
    return this.orderModel(after, await this.usernames());
  }

  /** Market orders closing the dealer's open positions (one, or every one matching). */
  async squareOff(
    actor: Principal,
    dealerId: string,
    match: { segment?: ExchangeSegment; securityId?: string; productType?: string },
    reason: string,
  ): Promise<DeskOrderModel[]> {
    await this.assertDealer(dealerId);
    const open = this.portfolio
      .allPositions()
      .filter(
        (p) =>
          p.key.userId === dealerId &&
          p.view.netQuantity !== 0 &&
          (match.segment === undefined || p.key.segment === match.segment) &&
          (match.securityId === undefined || p.key.securityId === match.securityId) &&
          (match.productType === undefined || p.key.productType === match.productType),
      );
    const note = `Squared off by the risk desk (${actor.username}): ${reason}`.slice(0, 200);
    const placed: OrderView[] = [];
    const before = open.map((p) => ({ ...this.positionFacts(p.key, p.view) }));
    try {
      for (const p of open) {
        placed.push(
          await this.orders.placeForDesk(
            dealerId,
            {
              clientOrderId: `desk-sq-${randomUUID()}`,
              segment: p.key.segment,
              securityId: p.key.securityId,
              side: p.view.netQuantity > 0 ? 'SELL' : 'BUY',
              quantity: Math.abs(p.view.netQuantity),
              orderType: 'MARKET',
              productType: p.key.productType as ProductType,
              validity: 'DAY',
            },
            note,
          ),
        );
      }
    } finally {
      await this.audit.record(actor, 'squareOff', dealerId, {
        reason,
        before,
        after: placed.map((o) => ({
          orderId: o.id,
          segment: o.segment,
          securityId: o.securityId,
          side: o.side,
          quantity: o.quantity,
          status: o.status,
          rejectionReason: o.rejectionReason,
        })),
      });
    }
    const names = await this.usernames();
    return placed.map((o) => this.orderModel(o, names));
  }

  async adjustFunds(
    actor: Principal,
    dealerId: string,
    amountRupees: number,
    reason: string,
  ): Promise<FundsAdjustmentModel> {
    await this.assertDealer(dealerId);
    // The one call into the funds ledger (through RMS's service).
    const { before, after } = await this.risk.adjustFunds(
      dealerId,
      Math.round(amountRupees * 100),
      reason,
    );
    await this.audit.record(actor, amountRupees > 0 ? 'creditFunds' : 'debitFunds', dealerId, {
      amount: amountRupees,
      reason,
      before: { ...before },
      after: { ...after },
    });
    return { dealerId, before: fundsModel(before), after: fundsModel(after) };
  }

  // ---- mapping ----

  private async assertDealer(id: string): Promise<void> {
    if (!(await this.users.findById(id))) throw new NotFoundError('Dealer not found');
  }

  private async usernames(): Promise<Map<string, string>> {
    return new Map((await this.users.list()).map((u) => [u.id, u.username]));
  }

  private instrument(segment: ExchangeSegment, securityId: string): InstrumentModel {
    return instrumentModelOf(this.instruments.get(segment, securityId), segment, securityId);
  }

  private positionFacts(key: PositionKey, view: PositionView) {
    return {
      segment: key.segment,
      securityId: key.securityId,
      productType: key.productType,
      netQuantity: view.netQuantity,
      realizedPnlPaise: Number(view.realizedPnlPaise),
      ltp: view.ltp ?? null,
    };
  }

  orderModel(o: OrderView, names: Map<string, string>): DeskOrderModel {
    return {
      ...orderModelOf(o, this.instrument(o.segment, o.securityId)),
      dealerId: o.userId,
      dealerUsername: names.get(o.userId) ?? o.userId,
    };
  }

  private tradeModel(t: TradeRow, names: Map<string, string>): DeskTradeModel {
    return {
      ...tradeModelOf(t, this.instrument(t.segment as ExchangeSegment, t.securityId)),
      dealerId: t.userId,
      dealerUsername: names.get(t.userId) ?? t.userId,
    };
  }

  private positionModel(p: PositionSnapshot, names: Map<string, string>): DeskPositionModel {
    const { key, view } = p;
    const price = view.ltp ?? view.openAverage;
    return {
      ...positionModelOf(
        key,
        view,
        this.portfolio.dayOf(key),
        this.instrument(key.segment, key.securityId),
      ),
      dealerId: key.userId,
      dealerUsername: names.get(key.userId) ?? key.userId,
      exposure: round2(Math.abs(view.netQuantity) * price),
    };
  }
}
