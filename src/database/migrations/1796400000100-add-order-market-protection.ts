import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The market price protection a MARKET or SL-M order was sent with: the limit price (rupees,
 * as text like the other prices) and the band in percent.
 */
export class AddOrderMarketProtection1796400000100 implements MigrationInterface {
  name = 'AddOrderMarketProtection1796400000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'protected_price', type: 'varchar', length: '24', isNullable: true }),
    );
    await queryRunner.addColumn(
      'orders',
      new TableColumn({
        name: 'protection_percent',
        type: 'varchar',
        length: '12',
        isNullable: true,
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('orders', 'protection_percent');
    await queryRunner.dropColumn('orders', 'protected_price');
  }
}
