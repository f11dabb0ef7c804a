import { Column, Entity, PrimaryColumn, type ValueTransformer } from 'typeorm';

/** bigint comes back as a string from PostgreSQL; epoch seconds are safe integers. */
const EPOCH_SECONDS: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** A cached DhanHQ chart bar of a past trading day (`time`: its start, UTC epoch seconds). */
@Entity('market_candles')
export class CandleEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  segment!: string;

  @PrimaryColumn({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @PrimaryColumn({ type: 'varchar', length: 4 })
  interval!: string;

  @PrimaryColumn({ type: 'bigint', transformer: EPOCH_SECONDS })
  time!: number;

  @Column({ type: 'double precision' })
  open!: number;

  @Column({ type: 'double precision' })
  high!: number;

  @Column({ type: 'double precision' })
  low!: number;

  @Column({ type: 'double precision' })
  close!: number;

  @Column({ type: 'double precision' })
  volume!: number;

  @Column({ type: 'double precision', nullable: true })
  oi!: number | null;
}

/** A past IST date whose bars of one instrument and interval are in `market_candles`. */
@Entity('market_candle_days')
export class CandleDayEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  segment!: string;

  @PrimaryColumn({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @PrimaryColumn({ type: 'varchar', length: 4 })
  interval!: string;

  @PrimaryColumn({ type: 'varchar', length: 10 })
  day!: string;
}
