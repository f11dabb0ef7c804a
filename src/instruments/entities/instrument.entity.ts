import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row of the last accepted instrument master (the copy a restart falls back to). */
@Entity({ name: 'instrument' })
export class InstrumentEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  segment!: string;

  @PrimaryColumn({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @Column({ type: 'varchar', length: 8 })
  exchange!: string;

  @Column({ name: 'instrument_type', type: 'varchar', length: 16 })
  instrumentType!: string;

  @Column({ type: 'varchar', length: 128 })
  symbol!: string;

  @Column({ name: 'display_name', type: 'varchar', length: 128 })
  displayName!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  underlying!: string | null;

  /** ISO date (YYYY-MM-DD): a calendar date, stored as text on both engines. */
  @Column({ type: 'varchar', length: 10, nullable: true })
  expiry!: string | null;

  @Column({ type: 'double precision', nullable: true })
  strike!: number | null;

  @Column({ name: 'option_type', type: 'varchar', length: 2, nullable: true })
  optionType!: string | null;

  @Column({ name: 'expiry_flag', type: 'varchar', length: 1, nullable: true })
  expiryFlag!: string | null;

  @Column({ name: 'lot_size', type: 'integer' })
  lotSize!: number;

  /** In rupees. */
  @Column({ name: 'tick_size', type: 'double precision' })
  tickSize!: number;
}
