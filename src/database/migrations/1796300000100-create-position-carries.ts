import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Each start of day's carry-forward, so a restart rebuilds the same trading day. */
export class CreatePositionCarries1796300000100 implements MigrationInterface {
  name = 'CreatePositionCarries1796300000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'position_carries',
        columns: [
          { name: 'trading_date', type: 'varchar', length: '10', isPrimary: true },
          { name: 'carried_at', type: instant },
          { name: 'positions', type: 'text' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('position_carries');
  }
}
