import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { BIGINT_NUMBER } from './bigint-number.transformer';

/**
 * One entry of a user's funds ledger (paise): a settled trade (its realised P&L, its charges
 * and the margin its position holds after it) or an adjustment (credit or debit). The balance is
 * the opening balance plus these; a rebuild at boot replays them.
 */
@Entity({ name: 'funds_entries' })
@Index('uq_funds_entries_trade', ['userId', 'tradeKey'], { unique: true })
@Index('ix_funds_entries_user', ['userId'])
export class FundsEntryEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  /** TRADE or ADJUSTMENT. */
  @Column({ type: 'varchar', length: 16 })
  kind!: string;

  /** `segment|exchangeTradeId` of a TRADE entry. */
  @Column({ name: 'trade_key', type: 'varchar', length: 64, nullable: true })
  tradeKey!: string | null;

  @Column({ name: 'position_key', type: 'varchar', length: 64, nullable: true })
  positionKey!: string | null;

  @Column({ name: 'realized_paise', type: 'bigint', transformer: BIGINT_NUMBER })
  realizedPaise!: number;

  @Column({ name: 'charges_paise', type: 'bigint', transformer: BIGINT_NUMBER })
  chargesPaise!: number;

  @Column({ name: 'margin_paise', type: 'bigint', transformer: BIGINT_NUMBER })
  marginPaise!: number;

  /** An ADJUSTMENT's amount (negative a debit). */
  @Column({ name: 'amount_paise', type: 'bigint', transformer: BIGINT_NUMBER })
  amountPaise!: number;

  @Column({ type: 'varchar', length: 200, nullable: true })
  reason!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
