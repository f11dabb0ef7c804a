import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The candle cache: DhanHQ chart bars of past trading days (`market_candles`) and which
 * (instrument, interval, IST date) are complete there (`market_candle_days`), so a range is
 * asked of DhanHQ once.
 */
export class CreateMarketCandles1796300000500 implements MigrationInterface {
  name = 'CreateMarketCandles1796300000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    const key = [
      { name: 'segment', type: 'varchar', length: '16', isPrimary: true },
      { name: 'security_id', type: 'varchar', length: '20', isPrimary: true },
      { name: 'interval', type: 'varchar', length: '4', isPrimary: true },
    ];
    await queryRunner.createTable(
      new Table({
        name: 'market_candles',
        columns: [
          ...key,
          { name: 'time', type: 'bigint', isPrimary: true },
          { name: 'open', type: 'double precision' },
          { name: 'high', type: 'double precision' },
          { name: 'low', type: 'double precision' },
          { name: 'close', type: 'double precision' },
          { name: 'volume', type: 'double precision' },
          { name: 'oi', type: 'double precision', isNullable: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'market_candle_days',
        columns: [...key, { name: 'day', type: 'varchar', length: '10', isPrimary: true }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('market_candle_days');
    await queryRunner.dropTable('market_candles');
  }
}
