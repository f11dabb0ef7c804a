import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The funds ledger's entries (one per settled trade, one per admin adjustment), from which a
 * user's balance and used margin are rebuilt exactly at boot; and `orders.tag`, set on orders
 * the server places itself (the intraday square-off).
 */
export class CreateFundsEntries1796200000300 implements MigrationInterface {
  name = 'CreateFundsEntries1796200000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'funds_entries',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'trade_key', type: 'varchar', length: '64', isNullable: true },
          { name: 'position_key', type: 'varchar', length: '64', isNullable: true },
          { name: 'realized_paise', type: 'bigint', default: 0 },
          { name: 'charges_paise', type: 'bigint', default: 0 },
          { name: 'margin_paise', type: 'bigint', default: 0 },
          { name: 'amount_paise', type: 'bigint', default: 0 },
          { name: 'reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'created_at', type: instant },
        ],
      }),
    );
    await queryRunner.createIndex(
      'funds_entries',
      new TableIndex({
        name: 'uq_funds_entries_trade',
        columnNames: ['user_id', 'trade_key'],
        isUnique: true,
      }),
    );
    await queryRunner.createIndex(
      'funds_entries',
      new TableIndex({ name: 'ix_funds_entries_user', columnNames: ['user_id'] }),
    );
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'tag', type: 'varchar', length: '40', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('orders', 'tag');
    await queryRunner.dropTable('funds_entries');
  }
}
