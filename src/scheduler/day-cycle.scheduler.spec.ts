import type { ResolvedAppConfig } from '../config/app-config';
import { ExchangeSegment } from '@app/dhan';
import { aCalendar, ist } from '../calendar/__tests__/calendar.factory';
import type { LeadershipService } from '../cluster/leadership.service';
import { DAY_CYCLE_CRON, DayCycleScheduler } from './day-cycle.scheduler';
import type { DayCycleReport, DayCycleService } from './day-cycle.service';

// The metadata key @Cron writes; the package does not export its constants module.
const SCHEDULE_CRON_OPTIONS = 'SCHEDULE_CRON_OPTIONS';

function fakeService() {
  const report = { outcome: 'DONE', tradingDate: 'x', released: 0 } as DayCycleReport;
  return {
    runEndOfDay: jest.fn(async () => report),
    runStartOfDay: jest.fn(async () => report),
    runSquareOff: jest.fn(async () => ({ ...report, placed: 0 })),
  };
}

function aScheduler(now: Date, squareOffMinutesBeforeClose = 15, leads = true) {
  const { calendar, clock } = aCalendar({ now });
  const service = fakeService();
  const config = { execution: { squareOffMinutesBeforeClose } } as ResolvedAppConfig;
  const leadership = { confirm: jest.fn(async () => leads) };
  const scheduler = new DayCycleScheduler(
    service as unknown as DayCycleService,
    calendar,
    clock,
    config,
    leadership as unknown as LeadershipService,
  );
  return { scheduler, service, calendar, clock };
}

describe('DayCycleScheduler (handlers called directly, not by cron)', () => {
  it('declares the IST cron times: 15:30, 23:30, 23:55 and 08:45 on weekdays', () => {
    expect(DAY_CYCLE_CRON).toEqual({
      nseBseEndOfDay: '0 30 15 * * 1-5',
      mcxEndOfDayEarly: '0 30 23 * * 1-5',
      mcxEndOfDayLate: '0 55 23 * * 1-5',
      startOfDay: '0 45 8 * * 1-5',
      squareOff: '0 * * * * 1-5',
    });
  });

  it('registers every handler with @Cron in Asia/Kolkata time', () => {
    const handlers = {
      nseBseEndOfDay: DAY_CYCLE_CRON.nseBseEndOfDay,
      mcxEndOfDayEarly: DAY_CYCLE_CRON.mcxEndOfDayEarly,
      mcxEndOfDayLate: DAY_CYCLE_CRON.mcxEndOfDayLate,
      startOfDay: DAY_CYCLE_CRON.startOfDay,
      squareOffTick: DAY_CYCLE_CRON.squareOff,
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

  it('squares off NSE/BSE at 15:15 and MCX at its close minus 15 minutes, and at no other minute', async () => {
    const nse = aScheduler(ist('2026-11-17T15:15'));
    await nse.scheduler.squareOffTick();
    expect(nse.service.runSquareOff.mock.calls).toEqual([['NSE_BSE']]);
    const before = aScheduler(ist('2026-11-17T15:14'));
    await before.scheduler.squareOffTick();
    expect(before.service.runSquareOff).not.toHaveBeenCalled();
    // Winter: MCX closes 23:55, squared off at 23:40; summer: 23:30 close, 23:15.
    const winter = aScheduler(ist('2026-11-17T23:40'));
    await winter.scheduler.squareOffTick();
    expect(winter.service.runSquareOff.mock.calls).toEqual([['MCX']]);
    const summer = aScheduler(ist('2026-07-15T23:15'));
    await summer.scheduler.squareOffTick();
    expect(summer.service.runSquareOff.mock.calls).toEqual([['MCX']]);
    // A configured lead of 30 minutes: 15:00.
    const early = aScheduler(ist('2026-11-17T15:00'), 30);
    await early.scheduler.squareOffTick();
    expect(early.service.runSquareOff.mock.calls).toEqual([['NSE_BSE']]);
    // A weekend has no close.
    const weekend = aScheduler(ist('2026-11-21T15:15'));
    await weekend.scheduler.squareOffTick();
    expect(weekend.service.runSquareOff).not.toHaveBeenCalled();
  });

  it('a failing run is caught and logged, never thrown out of the handler', async () => {
    const { scheduler, service } = aScheduler(ist('2026-11-17T15:30'));
    service.runEndOfDay.mockRejectedValueOnce(new Error('database down'));
    await expect(scheduler.nseBseEndOfDay()).resolves.toBeUndefined();
    service.runStartOfDay.mockRejectedValueOnce(new Error('database down'));
    await expect(scheduler.startOfDay()).resolves.toBeUndefined();
  });

  it('runs nothing on an instance that does not lead (a follower, or a leader replaced meanwhile)', async () => {
    // 2026-11-17 (a Tuesday) 15:15: the NSE/BSE square-off minute.
    const { scheduler, service } = aScheduler(ist('2026-11-17T15:15'), 15, false);
    await scheduler.squareOffTick();
    await scheduler.nseBseEndOfDay();
    await scheduler.startOfDay();
    expect(service.runSquareOff).not.toHaveBeenCalled();
    expect(service.runEndOfDay).not.toHaveBeenCalled();
    expect(service.runStartOfDay).not.toHaveBeenCalled();
    const leader = aScheduler(ist('2026-11-17T15:15'));
    await leader.scheduler.squareOffTick();
    expect(leader.service.runSquareOff).toHaveBeenCalledWith('NSE_BSE');
  });
});
