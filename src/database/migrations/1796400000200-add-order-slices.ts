import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Freeze-quantity slicing: a child order names its parent; a parent counts its children (0 for
 * an order that was not sliced).
 */
export class AddOrderSlices1796400000200 implements MigrationInterface {
  name = 'AddOrderSlices1796400000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'parent_id', type: 'varchar', length: '36', isNullable: true }),
    );
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'slice_count', type: 'integer', default: 0 }),
    );
    await queryRunner.createIndex(
      'orders',
      new TableIndex({ name: 'IDX_orders_parent', columnNames: ['parent_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('orders', 'IDX_orders_parent');
    await queryRunner.dropColumn('orders', 'slice_count');
    await queryRunner.dropColumn('orders', 'parent_id');
  }
}
