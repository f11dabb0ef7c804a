import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * OMS and RMS tables: orders with their event log, per-user risk limits, trading states
 * (kill switch) and paper funds. Portable: SQLite and PostgreSQL.
 */
export class CreateOrdersAndRisk1795900000200 implements MigrationInterface {
  name = 'CreateOrdersAndRisk1795900000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });

    await queryRunner.createTable(
      new Table({
        name: 'orders',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'client_order_id', type: 'varchar', length: '64' },
          { name: 'segment', type: 'varchar', length: '16' },
          { name: 'security_id', type: 'varchar', length: '20' },
          { name: 'side', type: 'varchar', length: '4' },
          { name: 'quantity', type: 'integer' },
          { name: 'order_type', type: 'varchar', length: '20' },
          { name: 'product_type', type: 'varchar', length: '10' },
          { name: 'validity', type: 'varchar', length: '4' },
          { name: 'price', type: 'varchar', length: '24', isNullable: true },
          { name: 'trigger_price', type: 'varchar', length: '24', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'filled_quantity', type: 'integer' },
          { name: 'average_price', type: 'varchar', length: '24', isNullable: true },
          { name: 'broker_order_id', type: 'varchar', length: '40', isNullable: true },
          { name: 'rejection_reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'modification_count', type: 'integer' },
          { name: 'send_attempts', type: 'integer' },
          { name: 'reserved_paise', type: 'integer' },
          { name: 'pending_terms', type: 'text', isNullable: true },
          { name: 'state', type: 'text' },
          { name: 'created_at', type: instant },
          { name: 'updated_at', type: instant },
          { name: 'version', type: 'integer' },
        ],
        indices: [
          new TableIndex({
            name: 'uq_orders_user_client_order_id',
            columnNames: ['user_id', 'client_order_id'],
            isUnique: true,
          }),
          new TableIndex({
            name: 'ix_orders_user_created',
            columnNames: ['user_id', 'created_at'],
          }),
          new TableIndex({ name: 'ix_orders_status', columnNames: ['status'] }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'order_events',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'order_id', type: 'varchar', length: '36' },
          { name: 'seq', type: 'integer' },
          { name: 'type', type: 'varchar', length: '24' },
          { name: 'from_status', type: 'varchar', length: '16', isNullable: true },
          { name: 'to_status', type: 'varchar', length: '16' },
          { name: 'cause', type: 'varchar', length: '40' },
          { name: 'payload', type: 'text' },
          { name: 'at', type: instant },
        ],
        indices: [
          new TableIndex({
            name: 'uq_order_events_order_seq',
            columnNames: ['order_id', 'seq'],
            isUnique: true,
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'risk_limits',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'limits', type: 'text' },
          { name: 'updated_at', type: instant },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'trading_states',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'scope', type: 'varchar', length: '8' },
          { name: 'user_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'state', type: 'varchar', length: '10' },
          { name: 'reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'updated_at', type: instant },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'funds_accounts',
        columns: [
          { name: 'user_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'balance_paise', type: 'bigint' },
          { name: 'used_paise', type: 'bigint' },
          { name: 'updated_at', type: instant },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('funds_accounts');
    await queryRunner.dropTable('trading_states');
    await queryRunner.dropTable('risk_limits');
    await queryRunner.dropTable('order_events');
    await queryRunner.dropTable('orders');
  }
}
