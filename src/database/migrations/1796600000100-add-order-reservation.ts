import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * An order stores its funds reservation by units (RMS's parts, JSON): what a rebuilt ledger
 * holds for it, including the share of filled units whose trades are not settled yet. Rows
 * written before have none: RMS reads their `reserved_paise` as held for the unfilled units.
 */
export class AddOrderReservation1796600000100 implements MigrationInterface {
  name = 'AddOrderReservation1796600000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'reservation', type: 'text', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('orders', 'reservation');
  }
}
