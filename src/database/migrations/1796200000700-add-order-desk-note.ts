import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Why the risk desk acted on an order (a cancel or a square-off on the dealer's behalf). */
export class AddOrderDeskNote1796200000700 implements MigrationInterface {
  name = 'AddOrderDeskNote1796200000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'desk_note', type: 'varchar', length: '200', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('orders', 'desk_note');
  }
}
