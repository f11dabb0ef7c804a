import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One order of one user. `clientOrderId` is the user's idempotency key (unique per user).
 * Prices are decimal strings in rupees (exact as entered). `state` is the serialised
 * OrderState of the state machine; the scalar columns mirror it for queries and the API.
 * `version` is the optimistic lock: every transition updates `WHERE version = <read>`, and the
 * order_events row of that transition has `seq = version`.
 */
@Entity({ name: 'orders' })
@Index('uq_orders_user_client_order_id', ['userId', 'clientOrderId'], { unique: true })
@Index('ix_orders_user_created', ['userId', 'createdAt'])
@Index('ix_orders_status', ['status'])
export class OrderEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ name: 'client_order_id', type: 'varchar', length: 64 })
  clientOrderId!: string;

  @Column({ type: 'varchar', length: 16 })
  segment!: string;

  @Column({ name: 'security_id', type: 'varchar', length: 20 })
  securityId!: string;

  @Column({ type: 'varchar', length: 4 })
  side!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  @Column({ name: 'order_type', type: 'varchar', length: 20 })
  orderType!: string;

  @Column({ name: 'product_type', type: 'varchar', length: 10 })
  productType!: string;

  @Column({ type: 'varchar', length: 4 })
  validity!: string;

  @Column({ type: 'varchar', length: 24, nullable: true })
  price!: string | null;

  @Column({ name: 'trigger_price', type: 'varchar', length: 24, nullable: true })
  triggerPrice!: string | null;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'filled_quantity', type: 'integer' })
  filledQuantity!: number;

  @Column({ name: 'average_price', type: 'varchar', length: 24, nullable: true })
  averagePrice!: string | null;

  @Column({ name: 'broker_order_id', type: 'varchar', length: 40, nullable: true })
  brokerOrderId!: string | null;

  @Column({ name: 'rejection_reason', type: 'varchar', length: 200, nullable: true })
  rejectionReason!: string | null;

  /** Why the risk desk acted on this order (a cancel or square-off on the dealer's behalf). */
  @Column({ name: 'desk_note', type: 'varchar', length: 200, nullable: true })
  deskNote!: string | null;

  @Column({ name: 'modification_count', type: 'integer' })
  modificationCount!: number;

  @Column({ name: 'send_attempts', type: 'integer' })
  sendAttempts!: number;

  /** Margin the order held on the user's funds when the row was written, in paise. */
  @Column({ name: 'reserved_paise', type: 'integer' })
  reservedPaise!: number;

  /**
   * The order's funds reservation as RMS gave it (its parts, opaque here), rebuilt into the
   * ledger at boot; null once it holds nothing (an ended order whose trades are settled).
   */
  @Column({ type: 'text', nullable: true })
  reservation!: string | null;

  /** JSON of the terms a pending modification asks for (applied when the broker accepts it). */
  @Column({ name: 'pending_terms', type: 'text', nullable: true })
  pendingTerms!: string | null;

  /** Set on orders the server places itself (INTRADAY_SQUARE_OFF); null for the user's own. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  tag!: string | null;

  /** The limit price a MARKET / SL-M order was sent at (market price protection), rupees. */
  @Column({ name: 'protected_price', type: 'varchar', length: 24, nullable: true })
  protectedPrice!: string | null;

  /** The protection band it was sent with, percent. */
  @Column({ name: 'protection_percent', type: 'varchar', length: 12, nullable: true })
  protectionPercent!: string | null;

  /** A child of a sliced order: its parent's id (freeze-quantity slicing). */
  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  /** A sliced order: how many children carry it (0: not sliced). Never sent itself. */
  @Column({ name: 'slice_count', type: 'integer', default: 0 })
  sliceCount!: number;

  /** JSON of OrderState. */
  @Column({ type: 'text' })
  state!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;

  @Column({ type: 'integer' })
  version!: number;
}
