/*
 * The OrdersService unit and scenario specs (fake ExecutionPort) against a real database: they
 * run here in the e2e projects so the e2e-postgres project runs them on PostgreSQL too (the
 * unit project runs them on in-memory SQLite).
 */
import '../src/orders/orders.service.spec';
import '../src/orders/fill-settlement.spec';
import '../src/orders/scenarios/trading-halted-denies-place-and-modify-allows-cancel.spec';
import '../src/orders/scenarios/trading-reducing-allows-only-reducing-orders.spec';
