import { EventEmitter } from 'node:events';
import { ExchangeSegment } from '@app/dhan/types';
import { istDateTime } from './calendar';
import { apiErrors } from './errors';
import { Clock, Market, roundTick } from './market';
import { Prng } from './prng';
import { SimInstrument, Universe } from './universe';

export type OrderStatus =
  'TRANSIT' | 'PENDING' | 'PART_TRADED' | 'TRADED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
export type TransactionType = 'BUY' | 'SELL';
export type OrderType = 'LIMIT' | 'MARKET' | 'STOP_LOSS' | 'STOP_LOSS_MARKET';
export type ProductType = 'CNC' | 'INTRADAY' | 'MARGIN' | 'MTF' | 'CO' | 'BO';
export type Validity = 'DAY' | 'IOC';

export const TRANSACTION_TYPES: readonly TransactionType[] = ['BUY', 'SELL'];
export const ORDER_TYPES: readonly OrderType[] = [
  'LIMIT',
  'MARKET',
  'STOP_LOSS',
  'STOP_LOSS_MARKET',
];
export const PRODUCT_TYPES: readonly ProductType[] = [
  'CNC',
  'INTRADAY',
  'MARGIN',
  'MTF',
  'CO',
  'BO',
];
export const VALIDITIES: readonly Validity[] = ['DAY', 'IOC'];

const TERMINAL: ReadonlySet<OrderStatus> = new Set(['TRADED', 'CANCELLED', 'REJECTED', 'EXPIRED']);

/** A validated place-order request. */
export interface PlaceRequest {
  correlationId?: string;
  transactionType: TransactionType;
  instrument: SimInstrument;
  productType: ProductType;
  orderType: OrderType;
  validity: Validity;
  quantity: number;
  disclosedQuantity: number;
  price: number;
  triggerPrice: number;
  afterMarketOrder: boolean;
  boProfitValue?: number;
  boStopLossValue?: number;
  /** The exchange's algo id the order is tagged with (SEBI's API-order framework). */
  algoId?: string;
}

export interface ModifyRequest {
  orderType: OrderType;
  quantity?: number;
  price?: number;
  triggerPrice?: number;
  disclosedQuantity?: number;
  validity?: Validity;
  legName?: string;
}

/** One order as the simulator keeps it. `view()` gives DhanHQ's order-book JSON. */
export interface SimOrder {
  clientId: string;
  orderId: string;
  exchangeOrderId: string;
  correlationId: string;
  status: OrderStatus;
  instrument: SimInstrument;
  transactionType: TransactionType;
  productType: ProductType;
  orderType: OrderType;
  validity: Validity;
  quantity: number;
  disclosedQuantity: number;
  price: number;
  triggerPrice: number;
  algoId: string;
  afterMarketOrder: boolean;
  boProfitValue?: number;
  boStopLossValue?: number;
  filledQty: number;
  turnover: number;
  triggered: boolean;
  modifications: number;
  createdMs: number;
  updatedMs: number;
  exchangeMs?: number;
  lastTradedPrice: number;
  lastTradedQty: number;
  omsErrorCode: string;
  omsErrorDescription: string;
}

export interface SimTrade {
  clientId: string;
  orderId: string;
  exchangeOrderId: string;
  exchangeTradeId: string;
  order: SimOrder;
  tradedQuantity: number;
  tradedPrice: number;
  timeMs: number;
}

interface PositionBook {
  clientId: string;
  instrument: SimInstrument;
  productType: ProductType;
  buyQty: number;
  buyValue: number;
  sellQty: number;
  sellValue: number;
}

export interface OrderEngineOptions {
  /** TRANSIT -> PENDING after this long. Default 20 ms; 0 = on the next turn. */
  transitDelayMs?: number;
  /** Period of the matching loop. Default 100 ms. */
  matchIntervalMs?: number;
  /** Quantity available at the touch per matching step; default: random lots of depth. */
  maxFillQtyPerStep?: number;
  /** Start-of-day limit of every account. Default 1 crore. */
  sodLimit?: number;
  /**
   * First order and exchange trade number, minus one. Default: the wall-clock time of the
   * engine's creation in microseconds, so a restarted simulator (its books start empty) never
   * reuses an id an earlier one gave out: a client still holding an old id must not reach
   * another order with it.
   */
  idBase?: number;
}

/** Microseconds since the epoch, from the real clock (never the simulated one). */
export function wallClockMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export interface OrderEngineEvents {
  /** Every state change or fill of an order. */
  update: [order: SimOrder];
  trade: [trade: SimTrade];
  /** After each pass of the matching loop (tests await it instead of sleeping). */
  matchCycle: [];
}

/**
 * Orders, trades, positions and funds per client, and a matching engine that fills against
 * the simulated prices: MARKET at the touch, LIMIT when crossed, SL/SL-M after the trigger,
 * IOC cancels the rest, large orders fill over several steps.
 */
export class OrderEngine extends EventEmitter<OrderEngineEvents> {
  private readonly orders = new Map<string, SimOrder>();
  private readonly orderList: SimOrder[] = [];
  private readonly trades: SimTrade[] = [];
  private readonly positions = new Map<string, PositionBook>();
  private readonly killSwitch = new Map<string, boolean>();
  private readonly open = new Set<SimOrder>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rng: Prng;
  private matchTimer: NodeJS.Timeout | undefined;
  /** Last order and trade numbers given out (numeric strings, as DhanHQ's ids are). */
  private orderSeq: number;
  private tradeSeq: number;
  private readonly opts: Required<Omit<OrderEngineOptions, 'maxFillQtyPerStep' | 'idBase'>> & {
    maxFillQtyPerStep?: number;
  };

  constructor(
    private readonly universe: Universe,
    private readonly market: Market,
    private readonly clock: Clock,
    seed: number | string,
    options: OrderEngineOptions = {},
  ) {
    super();
    this.rng = new Prng(seed).fork('orders');
    const idBase = options.idBase ?? wallClockMicros();
    if (!Number.isSafeInteger(idBase) || idBase < 0) {
      throw new RangeError(`idBase must be a non-negative safe integer, got ${idBase}`);
    }
    this.orderSeq = idBase;
    this.tradeSeq = idBase;
    this.opts = {
      transitDelayMs: options.transitDelayMs ?? 20,
      matchIntervalMs: options.matchIntervalMs ?? 100,
      maxFillQtyPerStep: options.maxFillQtyPerStep,
      sodLimit: options.sodLimit ?? 10_000_000,
    };
  }

  start(): void {
    if (!this.matchTimer) {
      this.matchTimer = setInterval(() => this.matchAll(), this.opts.matchIntervalMs);
    }
  }

  stop(): void {
    if (this.matchTimer) clearInterval(this.matchTimer);
    this.matchTimer = undefined;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  setTransitDelayMs(ms: number): void {
    this.opts.transitDelayMs = ms;
  }

  setMaxFillQtyPerStep(qty: number | undefined): void {
    this.opts.maxFillQtyPerStep = qty;
  }

  // ---- commands --------------------------------------------------------------------------

  place(clientId: string, req: PlaceRequest): SimOrder {
    if (this.killSwitch.get(clientId)) {
      throw apiErrors.order('Kill Switch is active. Trading is disabled for the day.');
    }
    const now = this.clock.now();
    const orderId = String(++this.orderSeq);
    const order: SimOrder = {
      clientId,
      orderId,
      exchangeOrderId: '',
      correlationId: req.correlationId ?? `sim${orderId}`,
      status: 'TRANSIT',
      instrument: req.instrument,
      transactionType: req.transactionType,
      productType: req.productType,
      orderType: req.orderType,
      validity: req.validity,
      quantity: req.quantity,
      disclosedQuantity: req.disclosedQuantity,
      price: req.price,
      triggerPrice: req.triggerPrice,
      afterMarketOrder: req.afterMarketOrder,
      algoId: req.algoId ?? '',
      boProfitValue: req.boProfitValue,
      boStopLossValue: req.boStopLossValue,
      filledQty: 0,
      turnover: 0,
      triggered: false,
      modifications: 0,
      createdMs: now,
      updatedMs: now,
      lastTradedPrice: 0,
      lastTradedQty: 0,
      omsErrorCode: '',
      omsErrorDescription: '',
    };
    this.orders.set(orderId, order);
    this.orderList.push(order);
    this.emit('update', order);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.reachExchange(order);
    }, this.opts.transitDelayMs);
    this.timers.add(timer);
    return order;
  }

  modify(clientId: string, orderId: string, req: ModifyRequest): SimOrder {
    const order = this.own(clientId, orderId);
    if (order.status === 'TRANSIT') throw apiErrors.order('Order is in Transit state');
    if (TERMINAL.has(order.status)) {
      throw apiErrors.order(
        `Order is already ${order.status.toLowerCase()} and cannot be modified`,
      );
    }
    if (order.modifications >= 25) {
      throw apiErrors.order('Maximum modification limit of 25 reached for this order');
    }
    const quantity = req.quantity ?? order.quantity;
    if (quantity <= order.filledQty) {
      throw apiErrors.input('Quantity must be more than the traded quantity');
    }
    if (quantity % order.instrument.lotSize !== 0) {
      throw apiErrors.input(`Quantity must be a multiple of lot size ${order.instrument.lotSize}`);
    }
    const type = req.orderType;
    const price = req.price ?? order.price;
    const trigger = req.triggerPrice ?? order.triggerPrice;
    if ((type === 'LIMIT' || type === 'STOP_LOSS') && !(price > 0)) {
      throw apiErrors.input('Price is required for this order type');
    }
    if ((type === 'STOP_LOSS' || type === 'STOP_LOSS_MARKET') && !(trigger > 0)) {
      throw apiErrors.input('Trigger price is required for this order type');
    }
    if (!this.onTick(order.instrument, price) || !this.onTick(order.instrument, trigger)) {
      throw apiErrors.input(`Price must be a multiple of tick size ${order.instrument.tickSize}`);
    }
    order.orderType = type;
    order.quantity = quantity;
    order.price = type === 'MARKET' || type === 'STOP_LOSS_MARKET' ? 0 : price;
    order.triggerPrice = type === 'STOP_LOSS' || type === 'STOP_LOSS_MARKET' ? trigger : 0;
    if (req.validity) order.validity = req.validity;
    if (req.disclosedQuantity !== undefined) order.disclosedQuantity = req.disclosedQuantity;
    order.modifications++;
    order.updatedMs = this.clock.now();
    this.emit('update', order);
    this.tryMatch(order);
    return order;
  }

  cancel(clientId: string, orderId: string): SimOrder {
    const order = this.own(clientId, orderId);
    if (order.status === 'TRANSIT') throw apiErrors.order('Order is in Transit state');
    if (TERMINAL.has(order.status)) {
      throw apiErrors.order(
        `Order is already ${order.status.toLowerCase()} and cannot be cancelled`,
      );
    }
    this.finish(order, 'CANCELLED');
    return order;
  }

  setKillSwitch(clientId: string, active: boolean): void {
    this.killSwitch.set(clientId, active);
    if (!active) return;
    for (const order of [...this.open]) {
      if (order.clientId === clientId && order.status !== 'TRANSIT')
        this.finish(order, 'CANCELLED');
    }
  }

  killSwitchActive(clientId: string): boolean {
    return this.killSwitch.get(clientId) ?? false;
  }

  // ---- queries ---------------------------------------------------------------------------

  ordersOf(clientId: string): SimOrder[] {
    return this.orderList.filter((o) => o.clientId === clientId);
  }

  order(clientId: string, orderId: string): SimOrder | undefined {
    const order = this.orders.get(orderId);
    return order && order.clientId === clientId ? order : undefined;
  }

  byCorrelationId(clientId: string, correlationId: string): SimOrder[] {
    return this.orderList.filter(
      (o) => o.clientId === clientId && o.correlationId === correlationId,
    );
  }

  tradesOf(clientId: string, orderId?: string): SimTrade[] {
    return this.trades.filter(
      (t) => t.clientId === clientId && (orderId === undefined || t.orderId === orderId),
    );
  }

  /** Every order in the simulator (tests count them after an ambiguous time-out). */
  allOrders(): readonly SimOrder[] {
    return this.orderList;
  }

  positionsOf(clientId: string): Record<string, unknown>[] {
    const now = this.clock.now();
    const out: Record<string, unknown>[] = [];
    for (const p of this.positions.values()) {
      if (p.clientId !== clientId) continue;
      const inst = p.instrument;
      const netQty = p.buyQty - p.sellQty;
      const buyAvg = p.buyQty > 0 ? p.buyValue / p.buyQty : 0;
      const sellAvg = p.sellQty > 0 ? p.sellValue / p.sellQty : 0;
      const ltp = this.market.mark(inst, now).ltp;
      const closedQty = Math.min(p.buyQty, p.sellQty);
      const realized = closedQty * (sellAvg - buyAvg);
      const openAvg = netQty > 0 ? buyAvg : sellAvg;
      const unrealized = netQty * (ltp - openAvg);
      out.push({
        dhanClientId: clientId,
        tradingSymbol: inst.symbol,
        securityId: inst.securityId,
        positionType: netQty > 0 ? 'LONG' : netQty < 0 ? 'SHORT' : 'CLOSED',
        exchangeSegment: inst.segment,
        productType: p.productType,
        buyAvg: round2(buyAvg),
        buyQty: p.buyQty,
        costPrice: round2(netQty === 0 ? 0 : openAvg),
        sellAvg: round2(sellAvg),
        sellQty: p.sellQty,
        netQty,
        realizedProfit: round2(realized),
        unrealizedProfit: round2(unrealized),
        rbiReferenceRate: 1,
        multiplier: 1,
        carryForwardBuyQty: 0,
        carryForwardSellQty: 0,
        carryForwardBuyValue: 0,
        carryForwardSellValue: 0,
        dayBuyQty: p.buyQty,
        daySellQty: p.sellQty,
        dayBuyValue: round2(p.buyValue),
        daySellValue: round2(p.sellValue),
        drvExpiryDate: inst.expiry ?? '0001-01-01',
        drvOptionType: inst.optionType ? (inst.optionType === 'CE' ? 'CALL' : 'PUT') : null,
        drvStrikePrice: inst.strike ?? 0,
        crossCurrency: false,
      });
    }
    return out;
  }

  funds(clientId: string): Record<string, unknown> {
    const { utilized, realized } = this.exposure(clientId);
    const available = this.opts.sodLimit - utilized + realized;
    return {
      dhanClientId: clientId,
      availabelBalance: round2(available),
      sodLimit: this.opts.sodLimit,
      collateralAmount: 0,
      receiveableAmount: 0,
      utilizedAmount: round2(utilized),
      blockedPayoutAmount: 0,
      withdrawableBalance: round2(Math.max(0, available)),
    };
  }

  /** Margin for one order, by the simulator's simple rules (DhanHQ v2: portfolio and funds response shape). */
  margin(
    clientId: string,
    inst: SimInstrument,
    side: TransactionType,
    productType: ProductType,
    quantity: number,
    price: number,
  ): Record<string, unknown> {
    const px = price > 0 ? price : this.market.mark(inst).ltp;
    const { total, span, exposure, leverage } = this.requiredMargin(
      inst,
      side,
      productType,
      quantity,
      px,
    );
    const available = Number(this.funds(clientId).availabelBalance);
    return {
      totalMargin: round2(total),
      spanMargin: round2(span),
      exposureMargin: round2(exposure),
      availableBalance: round2(available),
      variableMargin: 0,
      insufficientBalance: round2(Math.max(0, total - available)),
      brokerage: 20,
      leverage: leverage.toFixed(2),
    };
  }

  // ---- matching --------------------------------------------------------------------------

  private reachExchange(order: SimOrder): void {
    if (order.status !== 'TRANSIT') return;
    const reason = this.rejectionReason(order);
    const now = this.clock.now();
    if (reason) {
      order.omsErrorCode = 'RMS';
      order.omsErrorDescription = reason;
      this.finish(order, 'REJECTED');
      return;
    }
    order.status = 'PENDING';
    order.exchangeOrderId = `1${String(order.instrument.segmentCode)}00000${order.orderId}`;
    order.exchangeMs = now;
    order.updatedMs = now;
    this.open.add(order);
    this.emit('update', order);
    this.tryMatch(order);
  }

  private rejectionReason(order: SimOrder): string | undefined {
    const inst = order.instrument;
    if (inst.kind === 'INDEX') return 'Index instruments are not tradable';
    if (order.quantity % inst.lotSize !== 0) {
      return `Quantity must be a multiple of lot size ${inst.lotSize}`;
    }
    if (!this.onTick(inst, order.price) || !this.onTick(inst, order.triggerPrice)) {
      return `Price must be a multiple of tick size ${inst.tickSize}`;
    }
    if (inst.expiryMs !== undefined && inst.expiryMs < this.clock.now()) {
      return 'Contract has expired';
    }
    if (order.transactionType === 'BUY' || inst.isDerivative) {
      const price = order.price > 0 ? order.price : this.market.mark(inst).ltp;
      const { total } = this.requiredMargin(
        inst,
        order.transactionType,
        order.productType,
        order.quantity,
        price,
      );
      const available = Number(this.funds(order.clientId).availabelBalance);
      if (total > available) return 'RMS:Margin Exceeds, Required margin exceeds available funds';
    }
    return undefined;
  }

  private matchAll(): void {
    for (const order of [...this.open]) this.tryMatch(order);
    this.emit('matchCycle');
  }

  private tryMatch(order: SimOrder): void {
    if (order.status !== 'PENDING' && order.status !== 'PART_TRADED') return;
    const inst = order.instrument;
    const now = this.clock.now();
    const ltp = this.market.mark(inst, now).ltp;
    const buy = order.transactionType === 'BUY';
    const stop = order.orderType === 'STOP_LOSS' || order.orderType === 'STOP_LOSS_MARKET';
    if (stop && !order.triggered) {
      if (buy ? ltp < order.triggerPrice : ltp > order.triggerPrice) return;
      order.triggered = true;
    }
    const { bid, ask } = this.market.touch(inst, now);
    const atMarket = order.orderType === 'MARKET' || order.orderType === 'STOP_LOSS_MARKET';
    let fillPrice: number | undefined;
    if (buy) {
      if (atMarket || ask <= order.price) fillPrice = ask;
    } else if (bid > 0 && (atMarket || bid >= order.price)) {
      fillPrice = bid;
    }
    if (fillPrice !== undefined) {
      const remaining = order.quantity - order.filledQty;
      const available =
        this.opts.maxFillQtyPerStep ?? inst.lotSize * (5 + Math.floor(this.rng.next() * 45));
      const lots = Math.max(1, Math.floor(Math.min(remaining, available) / inst.lotSize));
      const qty = Math.min(remaining, lots * inst.lotSize);
      this.fill(order, qty, fillPrice, now);
    }
    if (order.validity === 'IOC' && this.open.has(order)) this.finish(order, 'CANCELLED');
  }

  private fill(order: SimOrder, qty: number, price: number, now: number): void {
    const inst = order.instrument;
    order.filledQty += qty;
    order.turnover += qty * price;
    order.lastTradedPrice = price;
    order.lastTradedQty = qty;
    order.updatedMs = now;
    const trade: SimTrade = {
      clientId: order.clientId,
      orderId: order.orderId,
      exchangeOrderId: order.exchangeOrderId,
      exchangeTradeId: `${String(inst.segmentCode)}${String(++this.tradeSeq)}`,
      order,
      tradedQuantity: qty,
      tradedPrice: price,
      timeMs: now,
    };
    this.trades.push(trade);
    const key = `${order.clientId}|${inst.key}|${order.productType}`;
    let book = this.positions.get(key);
    if (!book) {
      book = {
        clientId: order.clientId,
        instrument: inst,
        productType: order.productType,
        buyQty: 0,
        buyValue: 0,
        sellQty: 0,
        sellValue: 0,
      };
      this.positions.set(key, book);
    }
    if (order.transactionType === 'BUY') {
      book.buyQty += qty;
      book.buyValue += qty * price;
    } else {
      book.sellQty += qty;
      book.sellValue += qty * price;
    }
    this.emit('trade', trade);
    if (order.filledQty >= order.quantity) {
      this.finish(order, 'TRADED');
    } else {
      order.status = 'PART_TRADED';
      this.emit('update', order);
    }
  }

  private finish(order: SimOrder, status: OrderStatus): void {
    order.status = status;
    order.updatedMs = this.clock.now();
    this.open.delete(order);
    this.emit('update', order);
  }

  private own(clientId: string, orderId: string): SimOrder {
    const order = this.order(clientId, orderId);
    if (!order) throw apiErrors.order('Incorrect request for order and cannot be processed');
    return order;
  }

  private onTick(inst: SimInstrument, price: number): boolean {
    if (!(price > 0)) return true;
    return Math.abs(roundTick(price, inst.tickSize) - price) < 1e-6;
  }

  private requiredMargin(
    inst: SimInstrument,
    side: TransactionType,
    productType: ProductType,
    quantity: number,
    price: number,
  ): { total: number; span: number; exposure: number; leverage: number } {
    const notional = quantity * price;
    if (!inst.isDerivative) {
      const leverage = productType === 'CNC' ? 1 : 5;
      return { total: notional / leverage, span: 0, exposure: 0, leverage };
    }
    if (inst.kind === 'OPTION' && side === 'BUY') {
      return { total: notional, span: 0, exposure: 0, leverage: 1 };
    }
    const underlyingNotional =
      inst.kind === 'OPTION'
        ? quantity * this.market.mark(this.underlyingOf(inst) ?? inst).ltp
        : notional;
    const span = underlyingNotional * 0.09;
    const exposure = underlyingNotional * 0.03;
    return { total: span + exposure, span, exposure, leverage: 1 };
  }

  private underlyingOf(inst: SimInstrument): SimInstrument | undefined {
    return inst.underlyingKey === undefined
      ? undefined
      : this.universe.byInstrumentKey(inst.underlyingKey);
  }

  private exposure(clientId: string): { utilized: number; realized: number } {
    let utilized = 0;
    let realized = 0;
    for (const p of this.positions.values()) {
      if (p.clientId !== clientId) continue;
      const netQty = p.buyQty - p.sellQty;
      const buyAvg = p.buyQty > 0 ? p.buyValue / p.buyQty : 0;
      const sellAvg = p.sellQty > 0 ? p.sellValue / p.sellQty : 0;
      realized += Math.min(p.buyQty, p.sellQty) * (sellAvg - buyAvg);
      if (netQty === 0) continue;
      const side: TransactionType = netQty > 0 ? 'BUY' : 'SELL';
      const avg = netQty > 0 ? buyAvg : sellAvg;
      utilized += this.requiredMargin(
        p.instrument,
        side,
        p.productType,
        Math.abs(netQty),
        avg,
      ).total;
    }
    return { utilized, realized };
  }
}

/** DhanHQ's order-book JSON for an order (DhanHQ v2: order book). */
export function orderView(order: SimOrder): Record<string, unknown> {
  const inst = order.instrument;
  const avg = order.filledQty > 0 ? order.turnover / order.filledQty : 0;
  return {
    dhanClientId: order.clientId,
    orderId: order.orderId,
    exchangeOrderId: order.exchangeOrderId,
    correlationId: order.correlationId,
    orderStatus: order.status,
    transactionType: order.transactionType,
    exchangeSegment: inst.segment,
    productType: order.productType,
    orderType: order.orderType,
    validity: order.validity,
    tradingSymbol: inst.symbol,
    securityId: inst.securityId,
    quantity: order.quantity,
    disclosedQuantity: order.disclosedQuantity,
    price: order.price,
    triggerPrice: order.triggerPrice,
    afterMarketOrder: order.afterMarketOrder,
    boProfitValue: order.boProfitValue ?? 0,
    boStopLossValue: order.boStopLossValue ?? 0,
    legName: 'NA',
    createTime: istDateTime(order.createdMs),
    updateTime: istDateTime(order.updatedMs),
    exchangeTime: order.exchangeMs ? istDateTime(order.exchangeMs) : '0001-01-01 00:00:00',
    drvExpiryDate: inst.expiry ?? '0001-01-01',
    drvOptionType: inst.optionType ? (inst.optionType === 'CE' ? 'CALL' : 'PUT') : 'NA',
    drvStrikePrice: inst.strike ?? 0,
    omsErrorCode: order.omsErrorCode || 'NA',
    omsErrorDescription: order.omsErrorDescription || 'NA',
    algoId: order.algoId === '' ? '0' : order.algoId,
    remainingQuantity: order.quantity - order.filledQty,
    averageTradedPrice: round2(avg),
    filledQty: order.filledQty,
  };
}

/** DhanHQ's trade-book JSON (DhanHQ v2: trade book). */
export function tradeView(trade: SimTrade): Record<string, unknown> {
  const order = trade.order;
  const inst = order.instrument;
  return {
    dhanClientId: trade.clientId,
    orderId: trade.orderId,
    exchangeOrderId: trade.exchangeOrderId,
    exchangeTradeId: trade.exchangeTradeId,
    transactionType: order.transactionType,
    exchangeSegment: inst.segment,
    productType: order.productType,
    orderType: order.orderType,
    tradingSymbol: inst.symbol,
    securityId: inst.securityId,
    tradedQuantity: trade.tradedQuantity,
    tradedPrice: trade.tradedPrice,
    createTime: istDateTime(trade.timeMs),
    updateTime: istDateTime(trade.timeMs),
    exchangeTime: istDateTime(trade.timeMs),
    drvExpiryDate: inst.expiry ?? '0001-01-01',
    drvOptionType: inst.optionType ? (inst.optionType === 'CE' ? 'CALL' : 'PUT') : 'NA',
    drvStrikePrice: inst.strike ?? 0,
  };
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function isSegment(value: unknown): value is ExchangeSegment {
  return typeof value === 'string' && (Object.values(ExchangeSegment) as string[]).includes(value);
}
