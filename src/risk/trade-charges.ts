import shipped from './charges.json';

/** One side's statutory rates, fractions of the trade value. */
export interface SideRates {
  stt: number;
  stamp: number;
}

export interface SegmentRates {
  brokerageRate: number;
  /** Brokerage is at most this per trade. */
  brokerageCapPaise: number;
  exchangeRate: number;
  sebiRate: number;
  buy: SideRates;
  sell: SideRates;
}

export interface ChargeRates {
  gstRate: number;
  segments: Readonly<Record<string, SegmentRates>>;
}

/** What one trade costs, each part in integer paise (rounded to the paisa each). */
export interface TradeCharges {
  brokeragePaise: number;
  sttPaise: number;
  exchangePaise: number;
  sebiPaise: number;
  gstPaise: number;
  stampPaise: number;
  totalPaise: number;
}

/** The rates shipped in `charges.json` (the one data file of rates). */
export const SHIPPED_CHARGE_RATES: ChargeRates = shipped;

const NONE: TradeCharges = {
  brokeragePaise: 0,
  sttPaise: 0,
  exchangePaise: 0,
  sebiPaise: 0,
  gstPaise: 0,
  stampPaise: 0,
  totalPaise: 0,
};

/**
 * Charges of one trade of `valuePaise` on `segment`: brokerage (a rate, capped per trade),
 * exchange transaction and SEBI fees, GST on those three, STT and stamp duty by side. A segment
 * without rates costs nothing.
 */
export function chargesFor(
  segment: string,
  side: 'BUY' | 'SELL',
  valuePaise: number,
  rates: ChargeRates = SHIPPED_CHARGE_RATES,
): TradeCharges {
  const r = rates.segments[segment];
  if (r === undefined || valuePaise <= 0) return NONE;
  const part = (rate: number) => Math.round(valuePaise * rate);
  const brokeragePaise = Math.min(part(r.brokerageRate), r.brokerageCapPaise);
  const exchangePaise = part(r.exchangeRate);
  const sebiPaise = part(r.sebiRate);
  const gstPaise = Math.round((brokeragePaise + exchangePaise + sebiPaise) * rates.gstRate);
  const sideRates = side === 'BUY' ? r.buy : r.sell;
  const sttPaise = part(sideRates.stt);
  const stampPaise = part(sideRates.stamp);
  return {
    brokeragePaise,
    sttPaise,
    exchangePaise,
    sebiPaise,
    gstPaise,
    stampPaise,
    totalPaise: brokeragePaise + sttPaise + exchangePaise + sebiPaise + gstPaise + stampPaise,
  };
}
