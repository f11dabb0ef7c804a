import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Baskets: one row per basket (its status and, when its risk check failed, the failing leg and
 * reason) and one per leg (the placeOrder terms as given, the leg's place in the send order once
 * approved, and its order's id once placed). A leg's clientOrderId is unique per user, as an
 * order's is.
 */
export class CreateBaskets1796500000100 implements MigrationInterface {
  name = 'CreateBaskets1796500000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'baskets',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'hedge_first', type: 'boolean' },
          { name: 'origin', type: 'varchar', length: '64', isNullable: true },
          { name: 'rejection_reason', type: 'varchar', length: '64', isNullable: true },
          { name: 'rejected_leg', type: 'integer', isNullable: true },
          { name: 'message', type: 'varchar', length: '300', isNullable: true },
          { name: 'created_at', type: instant },
          { name: 'updated_at', type: instant },
        ],
        indices: [
          new TableIndex({
            name: 'ix_baskets_user_created',
            columnNames: ['user_id', 'created_at'],
          }),
          new TableIndex({ name: 'ix_baskets_status', columnNames: ['status'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'basket_legs',
        columns: [
          { name: 'basket_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'leg_index', type: 'integer', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'client_order_id', type: 'varchar', length: '64' },
          { name: 'terms', type: 'text' },
          { name: 'send_rank', type: 'integer', isNullable: true },
          { name: 'order_id', type: 'varchar', length: '36', isNullable: true },
        ],
        indices: [
          new TableIndex({
            name: 'uq_basket_legs_user_client_order_id',
            columnNames: ['user_id', 'client_order_id'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('basket_legs');
    await queryRunner.dropTable('baskets');
  }
}
