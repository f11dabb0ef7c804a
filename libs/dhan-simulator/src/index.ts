export { Accounts, silentLogger } from './accounts';
export { ChartHistory, type SimBar } from './charts';
export type { Account, AccountOptions, AuthOutcome, SimulatorLogger } from './accounts';
export { SimApiError, apiErrors } from './errors';
export {
  FeedServer,
  malformedFrame,
  type FeedConnectionInfo,
  type FeedServerOptions,
  type MalformedKind,
  type SilenceOptions,
} from './feed-server';
export * as feedEncoder from './feed-encoder';
export {
  Market,
  systemClock,
  type ActivityOptions,
  type Clock,
  type DepthLevel,
  type InstrumentState,
  type MarketOptions,
} from './market';
export {
  OrderEngine,
  orderView,
  tradeView,
  type OrderEngineOptions,
  type OrderStatus,
  type SimOrder,
  type SimTrade,
} from './orders';
export { OrderUpdateServer, type OrderUpdateServerOptions } from './order-update-server';
export { black76, smileVol, type OptionGreeks } from './pricing';
export { Prng } from './prng';
export { DEFAULT_RATE_LIMITS, type RateLimitOptions, type WindowLimits } from './rate-limit';
export {
  RestServer,
  SCRIP_MASTER_PATH,
  type FaultMatch,
  type HoldingSeed,
  type RestServerOptions,
} from './rest-server';
export { DhanSimulator, type DhanSimulatorOptions, type SimulatorUrls } from './simulator';
export {
  CSV_COLUMNS,
  Universe,
  type ChainSlice,
  type SimInstrument,
  type UniverseOptions,
  type Walk,
} from './universe';
