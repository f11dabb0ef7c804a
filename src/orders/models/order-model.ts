import type { InstrumentModel } from '../../instruments/models/instrument.model';
import type { OrderView } from '../order-view';
import type { OrderModel } from './order.model';

/** The GraphQL Order of a stored order (the dealer's API and the desk's build on it). */
export function orderModelOf(order: OrderView, instrument: InstrumentModel): OrderModel {
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
    rejectionReason: order.rejectionReason,
    tag: order.tag,
    deskNote: order.deskNote,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}
