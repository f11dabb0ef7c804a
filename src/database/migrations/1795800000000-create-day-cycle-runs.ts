import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Reports of end-of-day and start-of-day runs. Portable: SQLite and PostgreSQL. */
export class CreateDayCycleRuns1795800000000 implements MigrationInterface {
  name = 'CreateDayCycleRuns1795800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'day_cycle_run',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '8' },
          { name: 'exchange_group', type: 'varchar', length: '16' },
          { name: 'trading_date', type: 'varchar', length: '10' },
          { name: 'started_at', type: instant },
          { name: 'duration_ms', type: 'integer' },
          { name: 'counts_before', type: 'text' },
          { name: 'counts_after', type: 'text' },
          { name: 'outcome', type: 'varchar', length: '8' },
          { name: 'done_key', type: 'varchar', length: '40', isNullable: true, isUnique: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('day_cycle_run');
  }
}
