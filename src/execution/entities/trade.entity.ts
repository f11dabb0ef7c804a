import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** bigint columns come back as strings from PostgreSQL; price units stay safe integers. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/**
 * One exchange trade (a fill), stored exactly once: the unique (segment, exchange trade id)
 * index is the guard whatever path the trade comes by (socket, reconciliation, lookup, paper).
 */
@Entity({ name: 'trades' })
@Index('uq_trades_segment_trade', ['segment', 'exchangeTradeId'], { unique: true })
@Index('ix_trades_user', ['userId'])
export class TradeEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  segment!: string;

  @Column({ name: 'exchange_trade_id', type: 'varchar', length: 40 })
  exchangeTradeId!: string;

  @Column({ name: 'order_id', type: 'varchar', length: 36 })
  orderId!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ name: 'broker_order_id', type: 'varchar', length: 40 })
  brokerOrderId!: string;

  @Column({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @Column({ name: 'product_type', type: 'varchar', length: 12 })
  productType!: string;

  @Column({ type: 'varchar', length: 4 })
  side!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  /** Price in units of 1/10,000 rupee (risk/price-units.ts). */
  @Column({ name: 'price_units', type: 'bigint', transformer: bigintNumber })
  priceUnits!: number;

  /** socket, reconciliation, lookup or paper: how the trade first reached us. */
  @Column({ type: 'varchar', length: 16 })
  source!: string;

  @Column({ name: 'traded_at', type: Date })
  tradedAt!: Date;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
