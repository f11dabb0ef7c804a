import type { PositionKey, PositionView } from './domain';

/** Emitted (EventEmitter2) when a position's quantities or P&L changed, at most every ~250 ms. */
export const POSITIONS_UPDATED = 'positions.updated';
export interface PositionsUpdatedPayload {
  key: PositionKey;
  view: PositionView;
}
