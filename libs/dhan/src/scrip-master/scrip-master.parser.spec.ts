import fc from 'fast-check';
import { Readable } from 'node:stream';
import { ExchangeSegment } from '../types';
import {
  canonicalIndexName,
  nearMonthFuture,
  parseExpiry,
  parseScripMaster,
  ScripMasterRejectedError,
} from './scrip-master.parser';

const COMPACT_HEADER =
  'SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID,SEM_INSTRUMENT_NAME,SEM_EXPIRY_CODE,SEM_TRADING_SYMBOL,SEM_LOT_UNITS,SEM_CUSTOM_SYMBOL,SEM_EXPIRY_DATE,SEM_STRIKE_PRICE,SEM_OPTION_TYPE,SEM_TICK_SIZE,SEM_EXPIRY_FLAG,SEM_EXCH_INSTRUMENT_TYPE,SEM_SERIES,SM_SYMBOL_NAME';

// Index ids here are arbitrary on purpose: the parser must take them from the file.
const COMPACT_ROWS = [
  'NSE,I,9013,INDEX,,NIFTY,1.0,Nifty 50,,,,,,INDEX,X,NIFTY',
  'NSE,I,9025,INDEX,,BANKNIFTY,1.0,Nifty Bank,,,,,,INDEX,X,BANKNIFTY',
  'NSE,I,9027,INDEX,,FINNIFTY,1.0,Fin Nifty,,,,,,INDEX,X,FINNIFTY',
  'NSE,I,9442,INDEX,,MIDCPNIFTY,1.0,Midcap Select,,,,,,INDEX,X,MIDCPNIFTY',
  'BSE,I,9051,INDEX,,SENSEX,1.0,SENSEX,,,,,,INDEX,X,SENSEX',
  'BSE,I,9069,INDEX,,BANKEX,1.0,BANKEX,,,,,,INDEX,X,BANKEX',
  'NSE,E,1333,EQUITY,,HDFCBANK,1.0,HDFC Bank,,-0.01000,XX,5.0000,NA,EQ,EQ,HDFC BANK LTD',
  'BSE,E,500325,EQUITY,,RELIANCE,1.0,Reliance Industries,,-0.01000,XX,5.0000,NA,EQ,A,RELIANCE INDUSTRIES LTD',
  'NSE,D,52175,OPTIDX,,NIFTY-Dec2026-24000-CE,65.0,NIFTY 29 DEC 24000 CALL,2026-12-29 14:30:00,24000.00000,CE,5.0000,M,OPTIDX,NA,',
  'NSE,D,52176,OPTIDX,,NIFTY-Dec2026-24000-PE,65.0,NIFTY 29 DEC 24000 PUT,2026-12-29 14:30:00,24000.00000,PE,5.0000,M,OPTIDX,NA,',
  'NSE,D,52001,FUTIDX,0,BANKNIFTY-Dec2026-FUT,30.0,BANKNIFTY DEC FUT,2026-12-29 14:30:00,-0.01000,XX,10.0000,M,FUTIDX,NA,',
  'BSE,D,1100001,OPTIDX,,SENSEX-Dec2026-80000-CE,20.0,SENSEX 03 DEC 80000 CALL,2026-12-03 14:30:00,80000.00000,CE,5.0000,W,OPTIDX,NA,BSXOPT',
  'MCX,M,440001,FUTCOM,0,CRUDEOIL-18Dec2026-FUT,100.0,CRUDEOIL DEC FUT,2026-12-18 23:59:00,-0.01000,XX,100.0000,M,FUTCOM,NA,',
  'MCX,M,440002,FUTCOM,1,CRUDEOIL-19Jan2027-FUT,100.0,CRUDEOIL JAN FUT,2027-01-19 23:59:00,-0.01000,XX,100.0000,M,FUTCOM,NA,',
  'MCX,M,440000,FUTCOM,0,CRUDEOIL-18Nov2026-FUT,100.0,CRUDEOIL NOV FUT,2026-11-18 23:59:00,-0.01000,XX,100.0000,M,FUTCOM,NA,',
  'MCX,M,450001,OPTFUT,,CRUDEOIL-Dec2026-5500-CE,100.0,CRUDEOIL 16 DEC 5500 CALL,2026-12-16 23:59:00,5500.00000,CE,10.0000,M,OPTFUT,NA,',
];

const MALFORMED_ROWS = [
  'NYSE,E,1,EQUITY,,IBM,1.0,IBM,,,,5.0,NA,EQ,EQ,IBM',
  'NSE,E,abc,EQUITY,,BAD,1.0,Bad,,,,5.0,NA,EQ,EQ,BAD',
  'NSE,D,60000,OPTIDX,,NIFTY-Dec2026-24100-CE,65.0,NIFTY CALL,,24100.0,CE,5.0,M,OPTIDX,NA,',
  'NSE,D,60001,OPTIDX,,NIFTY-Dec2026-24100-XX,65.0,NIFTY ?,2026-12-29,24100.0,XX,5.0,M,OPTIDX,NA,',
  'NSE,E,60002,EQUITY,,NOLOT,abc,No lot,,,,5.0,NA,EQ,EQ,NOLOT',
  'NSE,E,60003',
  'NSE,M,60004,FUTCOM,0,GOLDM-Dec2026-FUT,1.0,GOLDM DEC FUT,2026-12-05,-0.01,XX,100.0,M,FUTCOM,NA,',
];

function csv(header: string, rows: string[]): string {
  return [header, ...rows].join('\n') + '\n';
}

describe('parseScripMaster: compact file', () => {
  it('maps segments, tick size, indices, options, futures and underlyings', async () => {
    const { instruments, indices, stats } = await parseScripMaster(
      csv(COMPACT_HEADER, COMPACT_ROWS),
      { minRows: 10 },
    );
    expect(stats).toMatchObject({ format: 'compact', rows: 16, instruments: 16, skipped: 0 });
    expect(Object.fromEntries(Object.entries(indices).map(([k, v]) => [k, v.securityId]))).toEqual({
      NIFTY: '9013',
      BANKNIFTY: '9025',
      FINNIFTY: '9027',
      MIDCPNIFTY: '9442',
      SENSEX: '9051',
      BANKEX: '9069',
    });
    expect(indices.SENSEX).toMatchObject({
      segment: ExchangeSegment.IDX_I,
      exchange: 'BSE',
      symbol: 'SENSEX',
      instrumentType: 'INDEX',
    });
    const by = (id: string) => instruments.find((i) => i.securityId === id);
    expect(by('1333')).toEqual({
      segment: ExchangeSegment.NSE_EQ,
      securityId: '1333',
      exchange: 'NSE',
      instrumentType: 'EQUITY',
      symbol: 'HDFCBANK',
      displayName: 'HDFC Bank',
      lotSize: 1,
      tickSize: 0.05,
    });
    expect(by('500325')?.segment).toBe(ExchangeSegment.BSE_EQ);
    expect(by('52175')).toEqual({
      segment: ExchangeSegment.NSE_FNO,
      securityId: '52175',
      exchange: 'NSE',
      instrumentType: 'OPTIDX',
      symbol: 'NIFTY-Dec2026-24000-CE',
      displayName: 'NIFTY 29 DEC 24000 CALL',
      underlying: 'NIFTY',
      expiry: '2026-12-29',
      strike: 24000,
      optionType: 'CE',
      expiryFlag: 'M',
      lotSize: 65,
      tickSize: 0.05,
    });
    expect(by('52176')?.optionType).toBe('PE');
    expect(by('52001')).toMatchObject({
      segment: ExchangeSegment.NSE_FNO,
      underlying: 'BANKNIFTY',
      expiry: '2026-12-29',
      lotSize: 30,
      tickSize: 0.1,
    });
    expect(by('52001')?.strike).toBeUndefined();
    // SM_SYMBOL_NAME says BSXOPT: the underlying comes from the trading symbol instead.
    expect(by('1100001')).toMatchObject({
      segment: ExchangeSegment.BSE_FNO,
      underlying: 'SENSEX',
      expiryFlag: 'W',
      lotSize: 20,
    });
    expect(by('440001')).toMatchObject({
      segment: ExchangeSegment.MCX_COMM,
      underlying: 'CRUDEOIL',
      tickSize: 1,
    });
    expect(by('450001')).toMatchObject({
      segment: ExchangeSegment.MCX_COMM,
      instrumentType: 'OPTFUT',
      underlying: 'CRUDEOIL',
      strike: 5500,
    });
    expect(stats.bySegment).toMatchObject({
      IDX_I: 6,
      NSE_EQ: 1,
      BSE_EQ: 1,
      NSE_FNO: 3,
      BSE_FNO: 1,
      MCX_COMM: 4,
    });
  });

  it('finds the near-month FUTCOM of an MCX underlying', async () => {
    const { instruments } = await parseScripMaster(csv(COMPACT_HEADER, COMPACT_ROWS), {
      verify: false,
    });
    expect(nearMonthFuture(instruments, 'crudeoil', '2026-11-25')?.securityId).toBe('440001');
    expect(nearMonthFuture(instruments, 'CRUDEOIL', '2026-11-18')?.securityId).toBe('440000');
    expect(nearMonthFuture(instruments, 'CRUDEOIL', '2026-12-19')?.securityId).toBe('440002');
    expect(nearMonthFuture(instruments, 'NATURALGAS', '2026-11-25')).toBeUndefined();
  });

  it('counts and skips malformed rows by reason', async () => {
    const { stats, instruments } = await parseScripMaster(
      csv(COMPACT_HEADER, [...COMPACT_ROWS, ...MALFORMED_ROWS]),
      { minRows: 10 },
    );
    expect(stats.instruments).toBe(16);
    expect(instruments).toHaveLength(16);
    expect(stats.skipped).toBe(7);
    expect(stats.skippedByReason).toEqual({
      'unknown exchange': 1,
      'bad security id': 1,
      'no instrument name': 1,
      'derivative without expiry': 1,
      'option without CE/PE': 1,
      'bad lot size': 1,
      'unmapped segment': 1,
    });
  });

  it('reads the real file index names through the alias table', async () => {
    const rows = [
      'NSE,I,13,INDEX,,NIFTY 50,1.0,Nifty 50,,,,,,INDEX,X,',
      'NSE,I,25,INDEX,,NIFTY BANK,1.0,Nifty Bank,,,,,,INDEX,X,',
      'NSE,I,27,INDEX,,NIFTY FIN SERVICE,1.0,Nifty Fin Service,,,,,,INDEX,X,',
      'NSE,I,442,INDEX,,NIFTY MID SELECT,1.0,Nifty Mid Select,,,,,,INDEX,X,',
      'BSE,I,51,INDEX,,SENSEX,1.0,Sensex,,,,,,INDEX,X,',
      'BSE,I,69,INDEX,,BANKEX,1.0,Bankex,,,,,,INDEX,X,',
    ];
    const { indices } = await parseScripMaster(csv(COMPACT_HEADER, rows), { minRows: 6 });
    expect(
      Object.fromEntries(Object.entries(indices).map(([k, v]) => [k, [v.securityId, v.symbol]])),
    ).toEqual({
      NIFTY: ['13', 'NIFTY 50'],
      BANKNIFTY: ['25', 'NIFTY BANK'],
      FINNIFTY: ['27', 'NIFTY FIN SERVICE'],
      MIDCPNIFTY: ['442', 'NIFTY MID SELECT'],
      SENSEX: ['51', 'SENSEX'],
      BANKEX: ['69', 'BANKEX'],
    });
    expect(canonicalIndexName('nifty  bank')).toBe('BANKNIFTY');
  });

  it('refuses a file that is too small or misses a required index', async () => {
    const withoutBankex = COMPACT_ROWS.filter((r) => !r.includes('BANKEX'));
    const err = await parseScripMaster(csv(COMPACT_HEADER, withoutBankex), { minRows: 100 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScripMasterRejectedError);
    expect((err as ScripMasterRejectedError).reasons).toEqual([
      'only 15 instruments (minimum 100)',
      'required index missing: BANKEX',
    ]);
  });

  it('refuses a file whose header is neither format, and an empty file', async () => {
    await expect(parseScripMaster('a,b,c\n1,2,3\n')).rejects.toThrow(/unrecognised header/);
    await expect(parseScripMaster('')).rejects.toThrow(/empty file/);
  });

  it('streams from a Readable in small chunks', async () => {
    const text = csv(COMPACT_HEADER, COMPACT_ROWS);
    const chunks = text.match(/[\s\S]{1,7}/g) ?? [];
    const { stats } = await parseScripMaster(Readable.from(chunks.map((c) => Buffer.from(c))), {
      minRows: 10,
    });
    expect(stats.instruments).toBe(16);
  });
});

const DETAILED_HEADER =
  'EXCH_ID,SEGMENT,SECURITY_ID,ISIN,INSTRUMENT,UNDERLYING_SECURITY_ID,UNDERLYING_SYMBOL,SYMBOL_NAME,DISPLAY_NAME,INSTRUMENT_TYPE,SERIES,LOT_SIZE,SM_EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG,BRACKET_FLAG,COVER_FLAG,ASM_GSM_FLAG,ASM_GSM_CATEGORY,BUY_SELL_INDICATOR,MTF_LEVERAGE';

const DETAILED_ROWS = [
  'NSE,I,13,NA,INDEX,13,NIFTY,NIFTY,Nifty 50,INDEX,NA,1,0001-01-01,-0.01,XX,0.05,NA,N,N,N,NA,A,0',
  'NSE,I,25,NA,INDEX,25,BANKNIFTY,BANKNIFTY,Nifty Bank,INDEX,NA,1,0001-01-01,-0.01,XX,0.05,NA,N,N,N,NA,A,0',
  'NSE,I,27,NA,INDEX,27,FINNIFTY,FINNIFTY,Nifty Fin Service,INDEX,NA,1,0001-01-01,-0.01,XX,0.05,NA,N,N,N,NA,A,0',
  'NSE,I,442,NA,INDEX,442,MIDCPNIFTY,MIDCPNIFTY,Nifty Mid Select,INDEX,NA,1,0001-01-01,-0.01,XX,0.05,NA,N,N,N,NA,A,0',
  'BSE,I,51,NA,INDEX,51,SENSEX,SENSEX,Sensex,INDEX,NA,1,0001-01-01,-0.01,XX,0.05,NA,N,N,N,NA,A,0',
  'BSE,I,69,NA,INDEX,69,BANKEX,BANKEX,Bankex,INDEX,NA,1,0001-01-01,-0.01,XX,0.05,NA,N,N,N,NA,A,0',
  'NSE,E,1333,INE040A01034,EQUITY,,HDFCBANK,HDFC BANK LTD,HDFC Bank,ES,EQ,1,0001-01-01,-0.01,XX,5,NA,Y,Y,N,NA,A,4.5',
  'BSE,D,1100001,NA,OPTIDX,51,SENSEX,BSXOPT,SENSEX 03 DEC 80000 CALL,OP,NA,20,2026-12-03,80000,CE,5,W,N,N,N,NA,A,0',
  'MCX,M,440001,NA,FUTCOM,294,CRUDEOIL,CRUDEOIL,CRUDEOIL DEC FUT,FUT,NA,100,2026-12-18,-0.01,XX,100,M,N,N,N,NA,A,0',
  'MCX,M,,NA,FUTCOM,294,CRUDEOIL,CRUDEOIL,CRUDEOIL BAD,FUT,NA,100,2026-12-18,-0.01,XX,100,M,N,N,N,NA,A,0',
];

describe('parseScripMaster: detailed file', () => {
  it('detects the format by header and takes the underlying from UNDERLYING_SYMBOL', async () => {
    const { instruments, indices, stats } = await parseScripMaster(
      csv(DETAILED_HEADER, DETAILED_ROWS),
      { minRows: 9 },
    );
    expect(stats).toMatchObject({
      format: 'detailed',
      rows: 10,
      instruments: 9,
      skipped: 1,
      skippedByReason: { 'bad security id': 1 },
    });
    expect(indices.MIDCPNIFTY.securityId).toBe('442');
    const by = (id: string) => instruments.find((i) => i.securityId === id);
    expect(by('1333')).toMatchObject({
      segment: ExchangeSegment.NSE_EQ,
      symbol: 'HDFC BANK LTD',
      tickSize: 0.05,
    });
    expect(by('1100001')).toMatchObject({
      segment: ExchangeSegment.BSE_FNO,
      underlying: 'SENSEX',
      strike: 80000,
      optionType: 'CE',
      expiry: '2026-12-03',
      lotSize: 20,
    });
    expect(by('440001')).toMatchObject({
      segment: ExchangeSegment.MCX_COMM,
      underlying: 'CRUDEOIL',
      expiry: '2026-12-18',
    });
    expect(by('13')?.expiry).toBeUndefined();
  });
});

describe('parseExpiry', () => {
  it.each([
    ['2026-12-29 14:30:00', '2026-12-29'],
    ['2026-12-29', '2026-12-29'],
    ['29/12/2026', '2026-12-29'],
    ['03-12-2026', '2026-12-03'],
    ['29-Dec-2026', '2026-12-29'],
    ['0001-01-01', undefined],
    ['-1', undefined],
    ['NA', undefined],
    ['2026-02-30', undefined],
    ['', undefined],
  ])('%s -> %s', (raw, iso) => {
    expect(parseExpiry(raw)).toBe(iso);
  });
});

describe('parseScripMaster properties', () => {
  it('never throws on arbitrary rows and accounts for every row', async () => {
    const cellArb = fc.oneof(
      fc.constantFrom(
        'NSE',
        'BSE',
        'MCX',
        'E',
        'D',
        'I',
        'M',
        'INDEX',
        'OPTIDX',
        'FUTCOM',
        'CE',
        'PE',
        '5.0',
        '2026-12-29',
        '-1',
        '',
      ),
      fc.string({ maxLength: 6 }),
    );
    const rowArb = fc
      .array(cellArb, { minLength: 0, maxLength: 18 })
      .map((cells) => cells.map((c) => c.replace(/[\r\n]/g, ' ')).join(','));
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 30 }), async (rows) => {
        const { stats } = await parseScripMaster(csv(COMPACT_HEADER, [...COMPACT_ROWS, ...rows]), {
          verify: false,
        });
        expect(stats.instruments + stats.skipped).toBe(stats.rows);
        expect(stats.instruments).toBeGreaterThanOrEqual(COMPACT_ROWS.length);
      }),
      { numRuns: 150 },
    );
  });
});
