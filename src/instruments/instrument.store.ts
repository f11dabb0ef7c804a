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

/** 13 columns a row: well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const INSERT_CHUNK = 1000;

export interface LoadRecord {
  source: string;
  outcome: InstrumentLoadOutcome;
  count: number;
  reason?: string;
  checksum?: string;
  durationMs: number;
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

  /** Replaces the stored master and logs the load, in one transaction: all or nothing. */
  async replaceAll(instruments: readonly Instrument[], record: LoadRecord): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.createQueryBuilder().delete().from(InstrumentEntity).execute();
      for (let start = 0; start < instruments.length; start += INSERT_CHUNK) {
        await manager
          .createQueryBuilder()
          .insert()
          .into(InstrumentEntity)
          .values(instruments.slice(start, start + INSERT_CHUNK).map(toRow))
          .updateEntity(false)
          .execute();
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
