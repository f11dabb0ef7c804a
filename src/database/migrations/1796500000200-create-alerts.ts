import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Server-side alerts (`alerts`: the level, the armed flag the hysteresis moves, the order or
 * basket to place when it fires) and their firings (`alert_firings`: the history, and for an
 * alert with an order or basket the placement's progress, written before it is placed).
 */
export class CreateAlerts1796500000200 implements MigrationInterface {
  name = 'CreateAlerts1796500000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    const instant = queryRunner.connection.driver.normalizeType({ type: Date });
    await queryRunner.createTable(
      new Table({
        name: 'alerts',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'segment', type: 'varchar', length: '16' },
          { name: 'security_id', type: 'varchar', length: '20' },
          { name: 'metric', type: 'varchar', length: '16' },
          { name: 'condition', type: 'varchar', length: '8' },
          { name: 'level', type: 'double precision' },
          { name: 'rearm_band', type: 'double precision' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'armed', type: 'boolean' },
          { name: 'action', type: 'text', isNullable: true },
          { name: 'fired_count', type: 'integer' },
          { name: 'last_fired_at', type: instant, isNullable: true },
          { name: 'created_at', type: instant },
          { name: 'updated_at', type: instant },
        ],
        indices: [
          new TableIndex({ name: 'ix_alerts_user', columnNames: ['user_id', 'created_at'] }),
          new TableIndex({ name: 'ix_alerts_status', columnNames: ['status'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'alert_firings',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'alert_id', type: 'varchar', length: '36' },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'value', type: 'double precision' },
          { name: 'fired_at', type: instant },
          { name: 'action_status', type: 'varchar', length: '16' },
          { name: 'order_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'basket_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'message', type: 'varchar', length: '300', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'ix_alert_firings_alert', columnNames: ['alert_id', 'fired_at'] }),
          new TableIndex({ name: 'ix_alert_firings_action', columnNames: ['action_status'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('alert_firings');
    await queryRunner.dropTable('alerts');
  }
}
