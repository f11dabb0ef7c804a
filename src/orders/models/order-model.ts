import type { InstrumentModel } from '../../instruments/models/instrument.model';
import type { OrderView } from '../order-view';
import type { OrderModel } from './order.model';

/** The GraphQL Order of a stored order (the dealer's API and the desk's build on it). */
export function orderModelOf(
  order: OrderView,
  instrument: InstrumentModel,
  /** Its place in the order governor's queue while QUEUED. */
  queuePosition: number | null,
): OrderModel {
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    brokerOrderId: order.brokerOrderId,
    instrument,
    side: order.side as OrderModel['side'],
    quantity: order.quantity,
    filledQuantity: order.filledQuantity,
    averagePrice: order.averagePrice,
    price: order.price,
    triggerPrice: order.triggerPrice,
    orderType: order.orderType as OrderModel['orderType'],
    productType: order.productType as OrderModel['productType'],
    validity: order.validity as OrderModel['validity'],
    status: order.status,
    queuePosition,
    protectedPrice: order.protectedPrice,
    protectionPercent: order.protectionPercent,
    parentId: order.parentId,
    sliceCount: order.sliceCount,
    rejectionReason: order.rejectionReason,
    tag: order.tag,
    deskNote: order.deskNote,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}
