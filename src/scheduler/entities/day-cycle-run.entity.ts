import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One end-of-day or start-of-day run: what it found, what it left, how it ended. */
@Entity({ name: 'day_cycle_run' })
export class DayCycleRunEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** EOD, SOD or SQOFF (intraday square-off). */
  @Column({ type: 'varchar', length: 8 })
  kind!: string;

  /** NSE_BSE or MCX (ALL for start of day). */
  @Column({ name: 'exchange_group', type: 'varchar', length: 16 })
  group!: string;

  @Column({ name: 'trading_date', type: 'varchar', length: 10 })
  tradingDate!: string;

  @Column({ name: 'started_at', type: Date })
  startedAt!: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  /** JSON: references per kind before the run. */
  @Column({ name: 'counts_before', type: 'text' })
  countsBefore!: string;

  /** JSON: references per kind after the run. */
  @Column({ name: 'counts_after', type: 'text' })
  countsAfter!: string;

  /** DONE, SKIPPED or NOOP. */
  @Column({ type: 'varchar', length: 8 })
  outcome!: string;

  /**
   * `kind:group:date` on DONE rows only, null otherwise: a plain unique column gives "one DONE
   * per kind, group and date" on both engines without a partial index.
   */
  @Column({ name: 'done_key', type: 'varchar', length: 40, nullable: true, unique: true })
  doneKey!: string | null;
}
