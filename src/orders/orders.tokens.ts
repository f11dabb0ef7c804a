/**
 * DI token of the ExecutionPort (src/execution/execution.contract.ts) the OMS calls. Bound to
 * ExecutionService in OrdersModule; unit specs bind a small in-memory fake.
 */
export const EXECUTION_PORT = Symbol('EXECUTION_PORT');
