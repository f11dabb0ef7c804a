import { CreateAuthAndAudit1764072000000 } from './1764072000000-create-auth-and-audit';
import { CreateInstruments1795613404933 } from './1795613404933-create-instruments';
import { CreateWatchlists1795700000000 } from './1795700000000-create-watchlists';
import { CreateDayCycleRuns1795800000000 } from './1795800000000-create-day-cycle-runs';
import { CreateExecution1795900000100 } from './1795900000100-create-execution';
import { CreateOrdersAndRisk1795900000200 } from './1795900000200-create-orders-and-risk';
import { AddSessionLifetime1796100000100 } from './1796100000100-add-session-lifetime';
import { CreateHealthProbe1796100000200 } from './1796100000200-create-health-probe';
import { CreateFundsEntries1796200000300 } from './1796200000300-create-funds-entries';
import { AddOrderDeskNote1796200000700 } from './1796200000700-add-order-desk-note';
import { CreatePositionCarries1796300000100 } from './1796300000100-create-position-carries';
import { CreateMarketCandles1796300000500 } from './1796300000500-create-market-candles';
import { AddOrderMarketProtection1796400000100 } from './1796400000100-add-order-market-protection';
import { AddOrderSlices1796400000200 } from './1796400000200-add-order-slices';
import { CreateBaskets1796500000100 } from './1796500000100-create-baskets';
import { CreateAlerts1796500000200 } from './1796500000200-create-alerts';
import { AddOrderReservation1796600000100 } from './1796600000100-add-order-reservation';

/** Every migration, in order. Registered explicitly so the app and the CLI run the same list. */
export const MIGRATIONS = [
  CreateAuthAndAudit1764072000000,
  CreateInstruments1795613404933,
  CreateWatchlists1795700000000,
  CreateDayCycleRuns1795800000000,
  CreateExecution1795900000100,
  CreateOrdersAndRisk1795900000200,
  AddSessionLifetime1796100000100,
  CreateHealthProbe1796100000200,
  CreateFundsEntries1796200000300,
  AddOrderDeskNote1796200000700,
  CreatePositionCarries1796300000100,
  CreateMarketCandles1796300000500,
  AddOrderMarketProtection1796400000100,
  AddOrderSlices1796400000200,
  CreateBaskets1796500000100,
  CreateAlerts1796500000200,
  AddOrderReservation1796600000100,
];
