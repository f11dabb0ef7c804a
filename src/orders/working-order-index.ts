import type { OrderEntity } from './entities/order.entity';
import { WORKING_STATUSES } from './order-row';
import type { OrderStatus } from '../trading/order-status';

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

type IndexedOrder = WorkingOrderFacts & Pick<OrderEntity, 'parentId'>;

/**
 * Every working order by user, kept by the order store's writes (a single instance writes
 * every order). A sliced order's children are kept but not reported: they count through their
 * parent, as in the database query this replaces.
 */
export class WorkingOrderIndex {
  private readonly byUser = new Map<string, Map<string, IndexedOrder>>();

  track(row: Pick<OrderEntity, 'userId' | 'status' | 'parentId'> & WorkingOrderFacts): void {
    const working = WORKING_STATUSES.includes(row.status as OrderStatus);
    let orders = this.byUser.get(row.userId);
    if (!working) {
      orders?.delete(row.id);
      if (orders?.size === 0) this.byUser.delete(row.userId);
      return;
    }
    if (!orders) this.byUser.set(row.userId, (orders = new Map()));
    orders.set(row.id, {
      id: row.id,
      segment: row.segment,
      securityId: row.securityId,
      productType: row.productType,
      side: row.side,
      quantity: row.quantity,
      filledQuantity: row.filledQuantity,
      price: row.price,
      parentId: row.parentId,
    });
  }

  facts(userId: string, exceptId: string): WorkingOrderFacts[] {
    const out: WorkingOrderFacts[] = [];
    for (const o of this.byUser.get(userId)?.values() ?? []) {
      if (o.parentId !== null || o.id === exceptId) continue;
      const { parentId: _parent, ...facts } = o;
      out.push(facts);
    }
    return out;
  }
}
