import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One issued refresh token. Only its SHA-256 is stored. Tokens of one login share a family:
 * presenting a token already rotated (`usedAt` set) revokes the whole family.
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshTokenEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Index('idx_refresh_tokens_user')
  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Index('idx_refresh_tokens_family')
  @Column({ name: 'family_id', type: 'varchar', length: 36 })
  familyId!: string;

  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true })
  tokenHash!: string;

  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;

  /** Absolute end of the login this token belongs to; rotation never extends it. */
  @Column({ name: 'session_expires_at', type: Date, nullable: true })
  sessionExpiresAt!: Date | null;

  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt!: Date | null;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
