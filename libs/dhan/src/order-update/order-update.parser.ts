import { ExchangeSegment } from '../types';
import { OrderStatus, OrderType, ProductType, TransactionType } from '../rest/rest-types';

/** One `order_alert` from the order-update socket (DhanHQ v2: order-update socket, order-update payloads as seen), normalised. */
export interface OrderUpdate {
  orderNo: string;
  exchOrderNo?: string;
  correlationId?: string;
  securityId?: string;
  exchange?: string;
  /** Derived from Exchange + Segment letter when both are known. */
  exchangeSegment?: ExchangeSegment;
  productType?: ProductType;
  transactionType?: TransactionType;
  orderType?: OrderType;
  validity?: string;
  /** Upper-case DhanHQ status (`PENDING`, `TRADED`, `PART_TRADED`, ...). */
  status: OrderStatus | string;
  /** The status exactly as it came. */
  rawStatus: string;
  quantity?: number;
  tradedQty?: number;
  remainingQuantity?: number;
  price?: number;
  triggerPrice?: number;
  tradedPrice?: number;
  avgTradedPrice?: number;
  symbol?: string;
  displayName?: string;
  reasonDescription?: string;
  remarks?: string;
  legNo?: number;
  orderDateTime?: string;
  exchOrderTime?: string;
  lastUpdatedTime?: string;
  /** The `Data` object as received. */
  raw: Record<string, unknown>;
}

export type OrderUpdateParseResult =
  | { kind: 'update'; update: OrderUpdate }
  | { kind: 'ignored'; type: string }
  | { kind: 'malformed'; reason: string };

const PRODUCT: Readonly<Record<string, ProductType>> = {
  C: 'CNC',
  I: 'INTRADAY',
  M: 'MARGIN',
  F: 'MTF',
  V: 'CO',
  B: 'BO',
};

const ORDER_TYPE: Readonly<Record<string, OrderType>> = {
  LMT: 'LIMIT',
  LIMIT: 'LIMIT',
  MKT: 'MARKET',
  MARKET: 'MARKET',
  SL: 'STOP_LOSS',
  STOP_LOSS: 'STOP_LOSS',
  SLM: 'STOP_LOSS_MARKET',
  'SL-M': 'STOP_LOSS_MARKET',
  STOP_LOSS_MARKET: 'STOP_LOSS_MARKET',
};

const SEGMENT: Readonly<Record<string, ExchangeSegment>> = {
  'NSE:E': ExchangeSegment.NSE_EQ,
  'NSE:D': ExchangeSegment.NSE_FNO,
  'NSE:C': ExchangeSegment.NSE_CURRENCY,
  'BSE:E': ExchangeSegment.BSE_EQ,
  'BSE:D': ExchangeSegment.BSE_FNO,
  'BSE:C': ExchangeSegment.BSE_CURRENCY,
  'MCX:M': ExchangeSegment.MCX_COMM,
  'MCX:D': ExchangeSegment.MCX_COMM,
};

/** Case- and underscore-insensitive view of an object's keys; the first spelling met wins. */
function keyView(obj: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) {
    const key = k.toLowerCase().replace(/_/g, '');
    if (!m.has(key)) m.set(key, v);
  }
  return m;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** `Traded`, `TRADED`, `Part_Traded`, `part traded` -> DhanHQ's upper-case names. */
export function normaliseOrderStatus(raw: string): string {
  const s = raw
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  if (s === 'PARTTRADED' || s === 'PARTIALLY_TRADED' || s === 'PART_FILLED') return 'PART_TRADED';
  if (s === 'CANCELED') return 'CANCELLED';
  return s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one text message of the order-update socket. Never throws. */
export function parseOrderUpdateMessage(text: string): OrderUpdateParseResult {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'malformed', reason: 'invalid JSON' };
  }
  if (!isRecord(msg)) return { kind: 'malformed', reason: 'not an object' };
  const top = keyView(msg);
  const type = str(top.get('type'));
  if (type === undefined) return { kind: 'malformed', reason: 'no Type' };
  if (type.toLowerCase() !== 'order_alert') return { kind: 'ignored', type };
  const data = top.get('data');
  if (!isRecord(data)) return { kind: 'malformed', reason: 'order_alert without Data' };
  const d = keyView(data);
  const orderNo = str(d.get('orderno'));
  const rawStatus = str(d.get('status'));
  if (orderNo === undefined) return { kind: 'malformed', reason: 'order_alert without OrderNo' };
  if (rawStatus === undefined) return { kind: 'malformed', reason: 'order_alert without Status' };

  const exchange = str(d.get('exchange'))?.toUpperCase();
  const segLetter = str(d.get('segment'))?.toUpperCase();
  const txn = str(d.get('txntype'))?.toUpperCase();
  const product = str(d.get('product'))?.toUpperCase();
  const orderType = str(d.get('ordertype'))?.toUpperCase();
  const update: OrderUpdate = {
    orderNo,
    exchOrderNo: str(d.get('exchorderno')),
    correlationId: str(d.get('correlationid')),
    securityId: str(d.get('securityid')),
    exchange,
    exchangeSegment: exchange && segLetter ? SEGMENT[`${exchange}:${segLetter}`] : undefined,
    productType: product
      ? (PRODUCT[product] ??
        (Object.values(PRODUCT).includes(product as ProductType)
          ? (product as ProductType)
          : undefined))
      : undefined,
    transactionType:
      txn === 'B' || txn === 'BUY' ? 'BUY' : txn === 'S' || txn === 'SELL' ? 'SELL' : undefined,
    orderType: orderType ? ORDER_TYPE[orderType] : undefined,
    validity: str(d.get('validity'))?.toUpperCase(),
    status: normaliseOrderStatus(rawStatus),
    rawStatus,
    quantity: num(d.get('quantity')),
    tradedQty: num(d.get('tradedqty')),
    remainingQuantity: num(d.get('remainingquantity')),
    price: num(d.get('price')),
    triggerPrice: num(d.get('triggerprice')),
    tradedPrice: num(d.get('tradedprice')),
    avgTradedPrice: num(d.get('avgtradedprice')),
    symbol: str(d.get('symbol')),
    displayName: str(d.get('displayname')),
    reasonDescription: str(d.get('reasondescription')),
    remarks: str(d.get('remarks')),
    legNo: num(d.get('legno')),
    orderDateTime: str(d.get('orderdatetime')),
    exchOrderTime: str(d.get('exchordertime')),
    lastUpdatedTime: str(d.get('lastupdatedtime')),
    raw: data,
  };
  for (const k of Object.keys(update) as Array<keyof OrderUpdate>) {
    if (update[k] === undefined) delete update[k];
  }
  return { kind: 'update', update };
}

/** The login message (DhanHQ v2: order-update socket): MsgCode as the integer 42. */
export function encodeOrderUpdateLogin(clientId: string, token: string): string {
  return JSON.stringify({
    LoginReq: { MsgCode: 42, ClientId: clientId, Token: token },
    UserType: 'SELF',
  });
}
