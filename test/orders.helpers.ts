import { ExchangeSegment, type Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import type { ResolvedAppConfig } from '../src/config/app-config';
import { correlationIdFor } from '../src/execution/domain';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { errorCodes, gql, login, type GraphqlResponse } from './utils/graphql-client';
import type { TestApp } from './utils/test-app';

export const ORDER_FIELDS = `id clientOrderId brokerOrderId status side quantity filledQuantity
  averagePrice price triggerPrice orderType productType validity rejectionReason createdAt updatedAt
  instrument { segment securityId symbol lotSize tickSize }`;

export const PLACE = `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`;
export const MODIFY = `mutation M($id: ID!, $input: ModifyOrderInput!) {
  modifyOrder(id: $id, input: $input) { ${ORDER_FIELDS} }
}`;
export const CANCEL = `mutation C($id: ID!) { cancelOrder(id: $id) { ${ORDER_FIELDS} } }`;
export const ORDERS = `query { orders { ${ORDER_FIELDS} } }`;
export const ORDER = `query O($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
export const FUNDS = `query { funds { available used reserved balance } }`;
export const ORDER_UPDATES = `subscription { orderUpdates { ${ORDER_FIELDS} } }`;
const CREATE_USER = `mutation U($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const PASSWORD = 'orders-e2e-Passw0rd!';

export interface OrderView {
  id: string;
  clientOrderId: string;
  brokerOrderId: string | null;
  status: string;
  side: string;
  quantity: number;
  filledQuantity: number;
  averagePrice: number | null;
  price: number | null;
  triggerPrice: number | null;
  orderType: string;
  rejectionReason: string | null;
  instrument: { segment: string; securityId: string; symbol: string };
}

/** Fast lookups and a short "not found" grace so fault tests resolve in seconds. */
export const ordersConfig = (config: ResolvedAppConfig) => ({
  ...config,
  marketData: { tierB: { enabled: false } },
  orders: { lookupBaseMs: 50, lookupCapMs: 400, notFoundGraceMs: 1_000 },
});

export class Trader {
  constructor(
    readonly t: TestApp,
    readonly id: string,
    readonly token: string,
  ) {}

  call<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) {
    return gql<T>(this.t.graphqlUrl, query, variables, this.token);
  }

  async ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.call<T>(query, variables);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data as T;
  }

  async place(input: Record<string, unknown>): Promise<OrderView> {
    return (await this.ok<{ placeOrder: OrderView }>(PLACE, { input })).placeOrder;
  }

  async order(id: string): Promise<OrderView | null> {
    return (await this.ok<{ order: OrderView | null }>(ORDER, { id })).order;
  }

  get connectionParams() {
    return { authorization: `Bearer ${this.token}` };
  }
}

export async function newTrader(t: TestApp, adminToken: string, username: string) {
  const created = await gql<{ createUser: { id: string } }>(
    t.adminUrl,
    CREATE_USER,
    { input: { username, password: PASSWORD, role: 'USER' } },
    adminToken,
  );
  if (!created.data) throw new Error(JSON.stringify(created.errors));
  const session = await login(t.graphqlUrl, username, PASSWORD);
  return new Trader(t, created.data.createUser.id, session.accessToken);
}

export async function adminToken(t: TestApp): Promise<string> {
  return (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
}

export async function anEquity(t: TestApp): Promise<Instrument> {
  const instruments = t.app.get(InstrumentsService);
  await instruments.ready();
  const equity = instruments
    .all()
    .find((i) => i.segment === ExchangeSegment.NSE_EQ && i.instrumentType === 'EQUITY');
  if (!equity) throw new Error('no NSE equity in the simulator universe');
  return equity;
}

/** The simulator's current price of an instrument, `fraction` of the way, on the tick. */
export function priceNear(sim: DhanSimulator, instrument: Instrument, fraction = 1): number {
  const inst = sim.universe.get(instrument.segment, instrument.securityId);
  if (!inst) throw new Error('instrument unknown to the simulator');
  const tickUnits = Math.round(instrument.tickSize * 10_000);
  const units = Math.round((sim.market.mark(inst).ltp * fraction * 10_000) / tickUnits) * tickUnits;
  return units / 10_000;
}

/** Orders the simulator holds for our order id (its correlationId). */
export function brokerOrdersFor(sim: DhanSimulator, orderId: string) {
  const correlationId = correlationIdFor(orderId);
  return sim.orders.allOrders().filter((o) => o.correlationId === correlationId);
}

export function codes(r: GraphqlResponse<unknown>) {
  return errorCodes(r);
}
