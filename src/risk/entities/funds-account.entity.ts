import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BIGINT_NUMBER } from './bigint-number.transformer';

/**
 * A user's account (paise): `balancePaise` is the opening balance; everything after it is in
 * funds_entries. `usedPaise` is no longer written (used margin is rebuilt from the positions).
 */
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
