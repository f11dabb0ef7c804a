import {
  Table,
  TableForeignKey,
  TableIndex,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';

/** Watchlists and their items. Portable: SQLite and PostgreSQL. */
export class CreateWatchlists1795700000000 implements MigrationInterface {
  name = 'CreateWatchlists1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });

    await queryRunner.createTable(
      new Table({
        name: 'watchlist',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'name', type: 'varchar', length: '40' },
          { name: 'position', type: 'integer' },
          { name: 'created_at', type: instant },
          { name: 'updated_at', type: instant },
        ],
        indices: [
          new TableIndex({
            name: 'uq_watchlist_user_name',
            columnNames: ['user_id', 'name'],
            isUnique: true,
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'watchlist_item',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'watchlist_id', type: 'varchar', length: '36' },
          { name: 'segment', type: 'varchar', length: '16' },
          { name: 'security_id', type: 'varchar', length: '20' },
          { name: 'include_option_chain', type: 'boolean' },
          { name: 'position', type: 'integer' },
          { name: 'created_at', type: instant },
        ],
        indices: [
          new TableIndex({
            name: 'uq_watchlist_item_instrument',
            columnNames: ['watchlist_id', 'segment', 'security_id'],
            isUnique: true,
          }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_watchlist_item_watchlist',
            columnNames: ['watchlist_id'],
            referencedTableName: 'watchlist',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('watchlist_item');
    await queryRunner.dropTable('watchlist');
  }
}
