import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One named watchlist of one user; names are unique per user. */
@Entity({ name: 'watchlist' })
@Index('uq_watchlist_user_name', ['userId', 'name'], { unique: true })
export class WatchlistEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'varchar', length: 40 })
  name!: string;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
