import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One start of day's carry-forward: when it ran and the positions it carried with their
 * reference prices, so a restart later that day rebuilds the same day (carried quantities,
 * references, day P&L) instead of guessing the day boundary from the wall clock.
 */
@Entity({ name: 'position_carries' })
export class PositionCarryEntity {
  @PrimaryColumn({ name: 'trading_date', type: 'varchar', length: 10 })
  tradingDate!: string;

  /** Trades stored before this instant belong to earlier days. */
  @Column({ name: 'carried_at', type: Date })
  carriedAt!: Date;

  /** JSON: `[{ key, quantity, referencePrice }]` (rupees), one per carried position. */
  @Column({ type: 'text' })
  positions!: string;
}
