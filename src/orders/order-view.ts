import type { ExchangeSegment } from '@app/dhan/types';
import type { OrderStatus } from '../trading/order-status';
import type { OrderSide, OrderType, ProductType, Validity } from '../trading/order-vocabulary';
import type { OrderEntity } from './entities/order.entity';

/** An order as the API shows it (prices in rupees). */
export interface OrderView {
  id: string;
  userId: string;
  clientOrderId: string;
  brokerOrderId: string | null;
  segment: ExchangeSegment;
  securityId: string;
  side: OrderSide;
  quantity: number;
  filledQuantity: number;
  averagePrice: number | null;
  price: number | null;
  triggerPrice: number | null;
  orderType: OrderType;
  productType: ProductType;
  validity: Validity;
  status: OrderStatus;
  rejectionReason: string | null;
  tag: string | null;
  /** Why the risk desk acted on this order, when it did. */
  deskNote: string | null;
  modificationCount: number;
  /** The limit price a MARKET / SL-M order was sent at, and its band (percent). */
  protectedPrice: number | null;
  protectionPercent: number | null;
  /** Freeze-quantity slicing: the parent of a child, and a parent's number of children. */
  parentId: string | null;
  sliceCount: number;
  createdAt: Date;
  updatedAt: Date;
}

const num = (s: string | null): number | null => (s === null ? null : Number(s));

export function toOrderView(row: OrderEntity): OrderView {
  return {
    id: row.id,
    userId: row.userId,
    clientOrderId: row.clientOrderId,
    brokerOrderId: row.brokerOrderId,
    segment: row.segment as ExchangeSegment,
    securityId: row.securityId,
    side: row.side as OrderSide,
    quantity: row.quantity,
    filledQuantity: row.filledQuantity,
    averagePrice: num(row.averagePrice),
    price: num(row.price),
    triggerPrice: num(row.triggerPrice),
    orderType: row.orderType as OrderType,
    productType: row.productType as ProductType,
    validity: row.validity as Validity,
    status: row.status as OrderStatus,
    rejectionReason: row.rejectionReason,
    tag: row.tag ?? null,
    deskNote: row.deskNote ?? null,
    modificationCount: row.modificationCount,
    protectedPrice: num(row.protectedPrice ?? null),
    protectionPercent: num(row.protectionPercent ?? null),
    parentId: row.parentId ?? null,
    sliceCount: row.sliceCount ?? 0,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
