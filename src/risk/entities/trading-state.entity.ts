import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The kill switch: GLOBAL, or one user's (id = the user id). */
@Entity({ name: 'trading_states' })
export class TradingStateEntity {
  /** `GLOBAL`, or the user id. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 8 })
  scope!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId!: string | null;

  @Column({ type: 'varchar', length: 10 })
  state!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  reason!: string | null;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
