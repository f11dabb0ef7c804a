import { ExchangeSegment } from '@app/dhan';
import { aCalendar, ist } from '../calendar/__tests__/calendar.factory';
import { DAY_CYCLE_CRON, DayCycleScheduler } from './day-cycle.scheduler';
import type { DayCycleReport, DayCycleService } from './day-cycle.service';

// The metadata key @Cron writes; the package does not export its constants module.
const SCHEDULE_CRON_OPTIONS = 'SCHEDULE_CRON_OPTIONS';

function fakeService() {
  const report = { outcome: 'DONE', tradingDate: 'x', released: 0 } as DayCycleReport;
  return {
    runEndOfDay: jest.fn(async () => report),
    runStartOfDay: jest.fn(async () => report),
  };
}

function aScheduler(now: Date) {
  const { calendar, clock } = aCalendar({ now });
  const service = fakeService();
  const scheduler = new DayCycleScheduler(service as unknown as DayCycleService, calendar, clock);
  return { scheduler, service, calendar, clock };
}

describe('DayCycleScheduler (handlers called directly, not by cron)', () => {
  it('declares the IST cron times: 15:30, 23:30, 23:55 and 08:45 on weekdays', () => {
    expect(DAY_CYCLE_CRON).toEqual({
      nseBseEndOfDay: '0 30 15 * * 1-5',
      mcxEndOfDayEarly: '0 30 23 * * 1-5',
      mcxEndOfDayLate: '0 55 23 * * 1-5',
      startOfDay: '0 45 8 * * 1-5',
    });
  });

  it('registers every handler with @Cron in Asia/Kolkata time', () => {
    const handlers = {
      nseBseEndOfDay: DAY_CYCLE_CRON.nseBseEndOfDay,
      mcxEndOfDayEarly: DAY_CYCLE_CRON.mcxEndOfDayEarly,
      mcxEndOfDayLate: DAY_CYCLE_CRON.mcxEndOfDayLate,
      startOfDay: DAY_CYCLE_CRON.startOfDay,
    } as const;
    for (const [method, cronTime] of Object.entries(handlers)) {
      const handler = DayCycleScheduler.prototype[method as keyof typeof handlers];
      const options = Reflect.getMetadata(SCHEDULE_CRON_OPTIONS, handler) as {
        cronTime: string;
        timeZone: string;
      };
      expect(options).toMatchObject({ cronTime, timeZone: 'Asia/Kolkata' });
    }
  });

  it('NSE/BSE end of day calls the service for NSE_BSE', async () => {
    const { scheduler, service } = aScheduler(ist('2026-11-17T15:30'));
    await scheduler.nseBseEndOfDay();
    expect(service.runEndOfDay).toHaveBeenCalledTimes(1);
    expect(service.runEndOfDay).toHaveBeenCalledWith('NSE_BSE');
  });

  it('start of day calls the service', async () => {
    const { scheduler, service } = aScheduler(ist('2026-11-17T08:45'));
    await scheduler.startOfDay();
    expect(service.runStartOfDay).toHaveBeenCalledTimes(1);
  });

  it('in winter (US standard time) only the 23:55 MCX handler acts', async () => {
    const { scheduler, service, calendar } = aScheduler(ist('2026-11-17T23:30'));
    expect(calendar.closeTime(ExchangeSegment.MCX_COMM, '2026-11-17')).toEqual(
      ist('2026-11-17T23:55'),
    );
    await scheduler.mcxEndOfDayEarly();
    expect(service.runEndOfDay).not.toHaveBeenCalled();
    await scheduler.mcxEndOfDayLate();
    expect(service.runEndOfDay).toHaveBeenCalledWith('MCX');
  });

  it('in summer (US daylight saving) only the 23:30 MCX handler acts', async () => {
    const { scheduler, service } = aScheduler(ist('2026-07-15T23:30'));
    await scheduler.mcxEndOfDayLate();
    expect(service.runEndOfDay).not.toHaveBeenCalled();
    await scheduler.mcxEndOfDayEarly();
    expect(service.runEndOfDay).toHaveBeenCalledWith('MCX');
  });

  it('a failing run is caught and logged, never thrown out of the handler', async () => {
    const { scheduler, service } = aScheduler(ist('2026-11-17T15:30'));
    service.runEndOfDay.mockRejectedValueOnce(new Error('database down'));
    await expect(scheduler.nseBseEndOfDay()).resolves.toBeUndefined();
    service.runStartOfDay.mockRejectedValueOnce(new Error('database down'));
    await expect(scheduler.startOfDay()).resolves.toBeUndefined();
  });
});
