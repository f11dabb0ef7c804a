import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Risk limits of one user, or the default for everyone (`userId` null). */
@Entity({ name: 'risk_limits' })
export class RiskLimitsEntity {
  /** The user id, or `DEFAULT` for the default row. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId!: string | null;

  /** JSON of RiskLimits (complete, validated by validateRiskLimits). */
  @Column({ type: 'text' })
  limits!: string;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
