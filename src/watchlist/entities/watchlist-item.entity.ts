import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One instrument of a watchlist; an instrument appears at most once per list. */
@Entity({ name: 'watchlist_item' })
@Index('uq_watchlist_item_instrument', ['watchlistId', 'segment', 'securityId'], { unique: true })
export class WatchlistItemEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'watchlist_id', type: 'varchar', length: 36 })
  watchlistId!: string;

  @Column({ type: 'varchar', length: 16 })
  segment!: string;

  @Column({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @Column({ name: 'include_option_chain', type: 'boolean' })
  includeOptionChain!: boolean;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
