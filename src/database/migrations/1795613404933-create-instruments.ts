import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The stored instrument master and the log of its loads. Portable: SQLite and PostgreSQL. */
export class CreateInstruments1795613404933 implements MigrationInterface {
  name = 'CreateInstruments1795613404933';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });

    await queryRunner.createTable(
      new Table({
        name: 'instrument',
        columns: [
          { name: 'segment', type: 'varchar', length: '16', isPrimary: true },
          { name: 'security_id', type: 'varchar', length: '20', isPrimary: true },
          { name: 'exchange', type: 'varchar', length: '8' },
          { name: 'instrument_type', type: 'varchar', length: '16' },
          { name: 'symbol', type: 'varchar', length: '128' },
          { name: 'display_name', type: 'varchar', length: '128' },
          { name: 'underlying', type: 'varchar', length: '64', isNullable: true },
          { name: 'expiry', type: 'varchar', length: '10', isNullable: true },
          { name: 'strike', type: 'double precision', isNullable: true },
          { name: 'option_type', type: 'varchar', length: '2', isNullable: true },
          { name: 'expiry_flag', type: 'varchar', length: '1', isNullable: true },
          { name: 'lot_size', type: 'integer' },
          { name: 'tick_size', type: 'double precision' },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'instrument_master_load',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'loaded_at', type: instant },
          { name: 'source', type: 'varchar', length: '512' },
          { name: 'outcome', type: 'varchar', length: '16' },
          { name: 'instrument_count', type: 'integer' },
          { name: 'reason', type: 'text', isNullable: true },
          { name: 'checksum', type: 'varchar', length: '64', isNullable: true },
          { name: 'duration_ms', type: 'integer' },
        ],
        indices: [
          new TableIndex({
            name: 'idx_instrument_master_load_loaded_at',
            columnNames: ['loaded_at'],
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('instrument_master_load');
    await queryRunner.dropTable('instrument');
  }
}
