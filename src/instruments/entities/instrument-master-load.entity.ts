import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export enum InstrumentLoadOutcome {
  /** Downloaded, verified, swapped in and stored. */
  ACCEPTED = 'ACCEPTED',
  /** Downloaded and verified, identical to the stored copy: swapped in, not rewritten. */
  UNCHANGED = 'UNCHANGED',
  /** Downloaded but refused by verification: the previous master stays. */
  REJECTED = 'REJECTED',
  /** The download itself failed. */
  FAILED = 'FAILED',
  /** Served from the stored copy after a failed download. */
  RESTORED = 'RESTORED',
}

/** One attempt to load the instrument master, whatever its outcome. */
@Entity({ name: 'instrument_master_load' })
export class InstrumentMasterLoadEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('idx_instrument_master_load_loaded_at')
  @Column({ name: 'loaded_at', type: Date })
  loadedAt!: Date;

  @Column({ type: 'varchar', length: 512 })
  source!: string;

  @Column({ type: 'varchar', length: 16 })
  outcome!: InstrumentLoadOutcome;

  @Column({ name: 'instrument_count', type: 'integer' })
  instrumentCount!: number;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** SHA-256 of the downloaded file. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  checksum!: string | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;
}
