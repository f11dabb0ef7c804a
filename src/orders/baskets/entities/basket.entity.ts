import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One basket of one user: its status and, when its risk check failed, why. */
@Entity({ name: 'baskets' })
@Index('ix_baskets_user_created', ['userId', 'createdAt'])
@Index('ix_baskets_status', ['status'])
export class BasketEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  /** BasketStatus. */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'hedge_first', type: 'boolean' })
  hedgeFirst!: boolean;

  /** Who placed it when not the dealer by hand: `alert:<id>` for an alert's basket. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  origin!: string | null;

  @Column({ name: 'rejection_reason', type: 'varchar', length: 64, nullable: true })
  rejectionReason!: string | null;

  /** Index (as given) of the leg whose risk check failed. */
  @Column({ name: 'rejected_leg', type: 'integer', nullable: true })
  rejectedLeg!: number | null;

  @Column({ type: 'varchar', length: 300, nullable: true })
  message!: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}

/** One leg of a basket: placeOrder's terms as given, and its order once placed. */
@Entity({ name: 'basket_legs' })
@Index('uq_basket_legs_user_client_order_id', ['userId', 'clientOrderId'], { unique: true })
export class BasketLegEntity {
  @PrimaryColumn({ name: 'basket_id', type: 'varchar', length: 36 })
  basketId!: string;

  @PrimaryColumn({ name: 'leg_index', type: 'integer' })
  legIndex!: number;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ name: 'client_order_id', type: 'varchar', length: 64 })
  clientOrderId!: string;

  /** JSON of the leg's PlaceOrderCommand (prices in rupees, as given). */
  @Column({ type: 'text' })
  terms!: string;

  /** 0-based place in the send order, set once the basket's risk check passed. */
  @Column({ name: 'send_rank', type: 'integer', nullable: true })
  sendRank!: number | null;

  @Column({ name: 'order_id', type: 'varchar', length: 36, nullable: true })
  orderId!: string | null;
}
