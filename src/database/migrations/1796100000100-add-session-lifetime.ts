import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The absolute end of a login, carried by each of its refresh tokens so rotation cannot move
 * it. Sessions open before this migration end when their current refresh token does.
 */
export class AddSessionLifetime1796100000100 implements MigrationInterface {
  name = 'AddSessionLifetime1796100000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.addColumn(
      'refresh_tokens',
      new TableColumn({ name: 'session_expires_at', type: instant, isNullable: true }),
    );
    await queryRunner.query('UPDATE refresh_tokens SET session_expires_at = expires_at');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('refresh_tokens', 'session_expires_at');
  }
}
