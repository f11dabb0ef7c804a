import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BIGINT_NUMBER } from './bigint-number.transformer';

/** A user's paper funds (paise): the balance and the margin used by filled orders. */
@Entity({ name: 'funds_accounts' })
export class FundsAccountEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ name: 'balance_paise', type: 'bigint', transformer: BIGINT_NUMBER })
  balancePaise!: number;

  @Column({ name: 'used_paise', type: 'bigint', transformer: BIGINT_NUMBER })
  usedPaise!: number;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
