import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Users, refresh tokens and the admin audit log. Portable: SQLite and PostgreSQL. */
export class CreateAuthAndAudit1764072000000 implements MigrationInterface {
  name = 'CreateAuthAndAudit1764072000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The type TypeORM maps a JS Date to on this engine: datetime (SQLite), timestamp (PostgreSQL).
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    const id = { type: 'varchar', length: '36' };

    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', ...id, isPrimary: true },
          { name: 'username', type: 'varchar', length: '64', isUnique: true },
          { name: 'password_hash', type: 'varchar', length: '255' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'disabled', type: 'boolean', default: 'false' },
          { name: 'created_at', type: instant },
          { name: 'updated_at', type: instant },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'refresh_tokens',
        columns: [
          { name: 'id', ...id, isPrimary: true },
          { name: 'user_id', ...id },
          { name: 'family_id', ...id },
          { name: 'token_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'expires_at', type: instant },
          { name: 'used_at', type: instant, isNullable: true },
          { name: 'revoked_at', type: instant, isNullable: true },
          { name: 'created_at', type: instant },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [
          new TableIndex({ name: 'idx_refresh_tokens_user', columnNames: ['user_id'] }),
          new TableIndex({ name: 'idx_refresh_tokens_family', columnNames: ['family_id'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'id', ...id, isPrimary: true },
          { name: 'actor_id', ...id, isNullable: true },
          { name: 'actor_username', type: 'varchar', length: '64' },
          { name: 'action', type: 'varchar', length: '64' },
          { name: 'target', type: 'varchar', length: '128', isNullable: true },
          { name: 'payload', type: 'text' },
          { name: 'created_at', type: instant },
        ],
        indices: [
          new TableIndex({ name: 'idx_audit_log_created_at', columnNames: ['created_at'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_log');
    await queryRunner.dropTable('refresh_tokens');
    await queryRunner.dropTable('users');
  }
}
