import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Execution's routing record and the trades table. Portable: SQLite and PostgreSQL. */
export class CreateExecution1795900000100 implements MigrationInterface {
  name = 'CreateExecution1795900000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });

    await queryRunner.createTable(
      new Table({
        name: 'execution_orders',
        columns: [
          { name: 'order_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'segment', type: 'varchar', length: '16' },
          { name: 'security_id', type: 'varchar', length: '20' },
          { name: 'side', type: 'varchar', length: '4' },
          { name: 'product_type', type: 'varchar', length: '12' },
          { name: 'quantity', type: 'integer' },
          { name: 'correlation_id', type: 'varchar', length: '25' },
          { name: 'gateway', type: 'varchar', length: '8' },
          { name: 'broker_order_id', type: 'varchar', length: '40', isNullable: true },
          { name: 'created_at', type: instant },
        ],
        indices: [
          new TableIndex({
            name: 'uq_execution_orders_correlation',
            columnNames: ['correlation_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_execution_orders_broker', columnNames: ['broker_order_id'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'trades',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'segment', type: 'varchar', length: '16' },
          { name: 'exchange_trade_id', type: 'varchar', length: '40' },
          { name: 'order_id', type: 'varchar', length: '36' },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'broker_order_id', type: 'varchar', length: '40' },
          { name: 'security_id', type: 'varchar', length: '20' },
          { name: 'product_type', type: 'varchar', length: '12' },
          { name: 'side', type: 'varchar', length: '4' },
          { name: 'quantity', type: 'integer' },
          { name: 'price_units', type: 'bigint' },
          { name: 'source', type: 'varchar', length: '16' },
          { name: 'traded_at', type: instant },
          { name: 'created_at', type: instant },
        ],
        indices: [
          new TableIndex({
            name: 'uq_trades_segment_trade',
            columnNames: ['segment', 'exchange_trade_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_trades_user', columnNames: ['user_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('trades');
    await queryRunner.dropTable('execution_orders');
  }
}
