import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** One row `/ready` rewrites to prove the database still takes writes. */
export class CreateHealthProbe1796100000200 implements MigrationInterface {
  name = 'CreateHealthProbe1796100000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'health_probe',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'checked_at', type: instant },
        ],
      }),
    );
    await queryRunner.query(
      `INSERT INTO health_probe (id, checked_at) VALUES ('ready', CURRENT_TIMESTAMP)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('health_probe');
  }
}
