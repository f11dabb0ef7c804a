import { randomUUID } from 'node:crypto';
import { type ExchangeSegment, type Instrument, type OptionType } from '@app/dhan';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { InstrumentEntity } from './entities/instrument.entity';
import {
  InstrumentLoadOutcome,
  InstrumentMasterLoadEntity,
} from './entities/instrument-master-load.entity';

/** SQLite rows per INSERT: 13 columns a row, well under its 32,766 bound parameters. */
const INSERT_CHUNK = 1000;

export interface LoadRecord {
  source: string;
  outcome: InstrumentLoadOutcome;
  count: number;
  reason?: string;
  checksum?: string;
  durationMs: number;
}

/** The PostgreSQL array type a column's values are sent as (see replaceAll). */
function pgArrayType(columnType: string): string {
  if (columnType === 'integer') return 'int4[]';
  if (columnType === 'double precision') return 'float8[]';
  return 'text[]';
}

function toRow(instrument: Instrument): InstrumentEntity {
  return {
    segment: instrument.segment,
    securityId: instrument.securityId,
    exchange: instrument.exchange,
    instrumentType: instrument.instrumentType,
    symbol: instrument.symbol,
    displayName: instrument.displayName,
    underlying: instrument.underlying ?? null,
    expiry: instrument.expiry ?? null,
    strike: instrument.strike ?? null,
    optionType: instrument.optionType ?? null,
    expiryFlag: instrument.expiryFlag ?? null,
    lotSize: instrument.lotSize,
    tickSize: instrument.tickSize,
  };
}

function fromRow(row: InstrumentEntity): Instrument {
  const instrument: Instrument = {
    segment: row.segment as ExchangeSegment,
    securityId: row.securityId,
    exchange: row.exchange as Instrument['exchange'],
    instrumentType: row.instrumentType,
    symbol: row.symbol,
    displayName: row.displayName,
    lotSize: Number(row.lotSize),
    tickSize: Number(row.tickSize),
  };
  if (row.underlying !== null) instrument.underlying = row.underlying;
  if (row.expiry !== null) instrument.expiry = row.expiry;
  if (row.strike !== null) instrument.strike = Number(row.strike);
  if (row.optionType !== null) instrument.optionType = row.optionType as OptionType;
  if (row.expiryFlag !== null) instrument.expiryFlag = row.expiryFlag;
  return instrument;
}

/** The stored copy of the last accepted instrument master and the log of load attempts. */
@Injectable()
export class InstrumentStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Replaces the stored master and logs the load, in one transaction: all or nothing. The rows
   * go in by hand-written SQL with bound parameters (TypeORM's query builder spent seconds of
   * CPU on 26,000 rows' parameters): on PostgreSQL one statement that unnests one array per
   * column, on SQLite multi-row INSERTs of INSERT_CHUNK rows.
   */
  async replaceAll(instruments: readonly Instrument[], record: LoadRecord): Promise<void> {
    const metadata = this.dataSource.getMetadata(InstrumentEntity);
    const columns = metadata.columns.map((c) => ({
      name: `"${c.databaseName}"`,
      property: c.propertyName as keyof InstrumentEntity,
      type: String(c.type),
    }));
    const into = `INSERT INTO ${metadata.tablePath
      .split('.')
      .map((part) => `"${part}"`)
      .join('.')} (${columns.map((c) => c.name).join(', ')})`;
    const rows = instruments.map(toRow);
    await this.dataSource.transaction(async (manager) => {
      await manager.createQueryBuilder().delete().from(InstrumentEntity).execute();
      if (this.dataSource.options.type === 'postgres') {
        const arrays = columns.map((c) => rows.map((r) => r[c.property]));
        const casts = columns.map((c, i) => `$${i + 1}::${pgArrayType(c.type)}`);
        await manager.query(`${into} SELECT * FROM unnest(${casts.join(', ')})`, arrays);
      } else {
        for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
          const chunk = rows.slice(start, start + INSERT_CHUNK);
          const params = chunk.flatMap((r) => columns.map((c) => r[c.property]));
          const tuple = `(${columns.map(() => '?').join(', ')})`;
          await manager.query(`${into} VALUES ${chunk.map(() => tuple).join(', ')}`, params);
        }
      }
      await manager.getRepository(InstrumentMasterLoadEntity).insert(this.loadRow(record));
    });
  }

  async record(record: LoadRecord): Promise<void> {
    await this.dataSource.getRepository(InstrumentMasterLoadEntity).insert(this.loadRow(record));
  }

  async loadAll(): Promise<Instrument[]> {
    const rows = await this.dataSource.getRepository(InstrumentEntity).find();
    return rows.map(fromRow);
  }

  /** Checksum of the file the stored copy came from, if one is stored. */
  async storedChecksum(): Promise<string | undefined> {
    const latest = await this.dataSource.getRepository(InstrumentMasterLoadEntity).findOne({
      where: { outcome: InstrumentLoadOutcome.ACCEPTED },
      order: { loadedAt: 'DESC', id: 'DESC' },
    });
    return latest?.checksum ?? undefined;
  }

  latestLoads(limit: number): Promise<InstrumentMasterLoadEntity[]> {
    return this.dataSource.getRepository(InstrumentMasterLoadEntity).find({
      order: { loadedAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  private loadRow(record: LoadRecord): InstrumentMasterLoadEntity {
    return {
      id: randomUUID(),
      loadedAt: this.clock.now(),
      source: record.source.slice(0, 512),
      outcome: record.outcome,
      instrumentCount: record.count,
      reason: record.reason ?? null,
      checksum: record.checksum ?? null,
      durationMs: Math.round(record.durationMs),
    };
  }
}
