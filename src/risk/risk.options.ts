import type { ResolvedAppConfig } from '../config/app-config';

/** Paper funds (docs: README "Orders"). */
export interface RiskOptions {
  /** Opening balance of a user's paper account, in rupees. Default 10,00,000 (PAPER_FUNDS_RUPEES). */
  paperFundsRupees: number;
  /** Charges (charges.json) deducted from the balance per trade. Default off (FUNDS_CHARGES). */
  charges: boolean;
}

export const DEFAULT_RISK_OPTIONS: Readonly<RiskOptions> = {
  paperFundsRupees: 1_000_000,
  charges: false,
};

export const RISK_OPTIONS = Symbol('RISK_OPTIONS');

/** Tests and embedders can set `risk` on the resolved configuration. */
export interface RiskRuntimeConfig extends ResolvedAppConfig {
  risk?: Partial<RiskOptions>;
}

/** Defaults, then PAPER_FUNDS_RUPEES, then `risk` of the resolved configuration. */
export function riskOptions(
  config: ResolvedAppConfig,
  env: NodeJS.ProcessEnv = process.env,
): RiskOptions {
  const out: RiskOptions = {
    ...DEFAULT_RISK_OPTIONS,
    charges: config.execution?.charges ?? DEFAULT_RISK_OPTIONS.charges,
  };
  const raw = env.PAPER_FUNDS_RUPEES;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(n * 100)) {
      throw new Error('PAPER_FUNDS_RUPEES must be a whole number of rupees >= 0');
    }
    out.paperFundsRupees = n;
  }
  const fromConfig = (config as RiskRuntimeConfig).risk?.paperFundsRupees;
  if (typeof fromConfig === 'number') out.paperFundsRupees = fromConfig;
  const charges = (config as RiskRuntimeConfig).risk?.charges;
  if (typeof charges === 'boolean') out.charges = charges;
  return out;
}
