import type { OrderEntity } from './entities/order.entity';
import { WORKING_STATUSES } from './order-row';
import type { OrderStatus } from '../trading/order-status';
import {
  workingValuePaise,
  type ExposureQuery,
  type WorkingExposure,
} from '../risk/risk-facts.service';

/** The columns of a working order that RMS's exposure figures need. */
export type WorkingOrderFacts = Pick<
  OrderEntity,
  'id' | 'segment' | 'securityId' | 'productType' | 'side' | 'quantity' | 'filledQuantity' | 'price'
>;

/** The columns of an order RMS's working-order facts are read from. */
export const WORKING_FACT_COLUMNS = {
  id: true,
  segment: true,
  securityId: true,
  productType: true,
  side: true,
  quantity: true,
  filledQuantity: true,
  price: true,
} as const;

type IndexedOrder = WorkingOrderFacts &
  Pick<OrderEntity, 'parentId'> & {
    /** Its part of the user's sums (see counted). */
    remaining: number;
    valuePaise: number;
  };

/** A working order counts in RMS's sums unless it is a sliced order's child (its parent does). */
const counted = (o: Pick<OrderEntity, 'parentId'>) => o.parentId === null;

const instrumentKey = (segment: string, securityId: string, productType: string) =>
  `${segment}\u0000${securityId}\u0000${productType}`;

/**
 * Every working order by user, kept by the order store's writes (a single instance writes
 * every order), with the sums RMS checks an order against kept as each order changes: how many
 * working orders the user has, their value, and the remaining BUY / SELL quantity per
 * instrument and product. A check then costs the same whatever the size of the dealer's book
 * (it listed every working order before). A sliced order's children are kept but not counted:
 * they count through their parent, as in the database query this replaces.
 */
export class WorkingOrderIndex {
  private readonly byUser = new Map<string, Map<string, IndexedOrder>>();
  private readonly totals = new Map<string, { count: number; valuePaise: number }>();
  /** Per user, per instrument and product: remaining BUY and SELL quantity. */
  private readonly open = new Map<string, Map<string, { buy: number; sell: number }>>();

  track(row: Pick<OrderEntity, 'userId' | 'status' | 'parentId'> & WorkingOrderFacts): void {
    const working = WORKING_STATUSES.includes(row.status as OrderStatus);
    let orders = this.byUser.get(row.userId);
    const before = orders?.get(row.id);
    if (before) this.add(row.userId, before, -1);
    if (!working) {
      orders?.delete(row.id);
      if (orders?.size === 0) this.byUser.delete(row.userId);
      return;
    }
    if (!orders) this.byUser.set(row.userId, (orders = new Map()));
    const remaining = row.quantity - row.filledQuantity;
    const indexed: IndexedOrder = {
      id: row.id,
      segment: row.segment,
      securityId: row.securityId,
      productType: row.productType,
      side: row.side,
      quantity: row.quantity,
      filledQuantity: row.filledQuantity,
      price: row.price,
      parentId: row.parentId,
      remaining,
      valuePaise: workingValuePaise(remaining, row.price === null ? undefined : Number(row.price)),
    };
    orders.set(row.id, indexed);
    this.add(row.userId, indexed, 1);
  }

  /** The sums for one order's check, that order left out. */
  exposure(query: ExposureQuery): WorkingExposure {
    const total = this.totals.get(query.userId) ?? { count: 0, valuePaise: 0 };
    const open = this.open
      .get(query.userId)
      ?.get(instrumentKey(query.segment, query.securityId, query.productType));
    const exposure: WorkingExposure = {
      count: total.count,
      openBuy: open?.buy ?? 0,
      openSell: open?.sell ?? 0,
      valuePaise: total.valuePaise,
    };
    const except = this.byUser.get(query.userId)?.get(query.exceptOrderId);
    if (except && counted(except)) {
      exposure.count -= 1;
      exposure.valuePaise -= except.valuePaise;
      if (
        except.segment === query.segment &&
        except.securityId === query.securityId &&
        except.productType === query.productType
      ) {
        if (except.side === 'BUY') exposure.openBuy -= except.remaining;
        else exposure.openSell -= except.remaining;
      }
    }
    return exposure;
  }

  /** Every counted working order of the user other than `exceptId` (tests compare the sums). */
  facts(userId: string, exceptId: string): WorkingOrderFacts[] {
    const out: WorkingOrderFacts[] = [];
    for (const o of this.byUser.get(userId)?.values() ?? []) {
      if (!counted(o) || o.id === exceptId) continue;
      const { parentId: _parent, remaining: _remaining, valuePaise: _value, ...facts } = o;
      out.push(facts);
    }
    return out;
  }

  private add(userId: string, o: IndexedOrder, sign: 1 | -1): void {
    if (!counted(o)) return;
    let total = this.totals.get(userId);
    if (!total) this.totals.set(userId, (total = { count: 0, valuePaise: 0 }));
    total.count += sign;
    total.valuePaise += sign * o.valuePaise;
    if (total.count === 0) this.totals.delete(userId);
    let byInstrument = this.open.get(userId);
    if (!byInstrument) this.open.set(userId, (byInstrument = new Map()));
    const key = instrumentKey(o.segment, o.securityId, o.productType);
    let open = byInstrument.get(key);
    if (!open) byInstrument.set(key, (open = { buy: 0, sell: 0 }));
    if (o.side === 'BUY') open.buy += sign * o.remaining;
    else open.sell += sign * o.remaining;
    if (open.buy === 0 && open.sell === 0) byInstrument.delete(key);
    if (byInstrument.size === 0) this.open.delete(userId);
  }
}
