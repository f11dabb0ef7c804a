import { Inject, Injectable, Optional } from '@nestjs/common';
import { OrderRateLimiter } from './order-rate-limiter';
import { CheckInput, RISK_CHECKS, RiskCheck, dailyLossHit } from './risk-checks';
import { deriveFacts } from './risk-order-facts';
import { RiskContext, RiskDenialCode, RiskOrder, RiskSignal } from './risk.types';

export interface RiskApproval {
  pass: true;
  /** Quantities of the child orders when the order is above the freeze quantity (SLICE policy). */
  slices?: number[];
  /** The order trades against the user's position without raising exposure (an exit). */
  reducing?: boolean;
  /** The margin now held for the order on the user's FundsLedger (0 for a reducing order). */
  reservation?: { orderId: string; amountPaise: number };
  signals: RiskSignal[];
}

export interface RiskDenial {
  pass: false;
  code: RiskDenialCode;
  message: string;
  signals: RiskSignal[];
}

export type RiskVerdict = RiskApproval | RiskDenial;

export interface RiskEngineOptions {
  now?: () => number;
  /** Longest rate window of any user, so the rate log can be pruned. Default 60 s. */
  rateRetainMs?: number;
  checks?: readonly RiskCheck[];
}

/** DI token for RiskEngineOptions; without it Nest builds the engine with the defaults. */
export const RISK_ENGINE_OPTIONS = Symbol('RISK_ENGINE_OPTIONS');

const NO_SIGNALS: RiskSignal[] = [];

/**
 * Runs the ordered pre-trade checks (risk-checks.ts) and, when all pass, commits the two
 * side effects in the same synchronous call: the order counts against the user's rate window
 * and its margin is reserved on the user's FundsLedger (see FundsLedger for why that is atomic).
 * Cancels always pass and touch nothing.
 */
@Injectable()
export class RiskEngine {
  private readonly now: () => number;
  private readonly rate: OrderRateLimiter;
  private readonly checks: readonly RiskCheck[];

  constructor(@Optional() @Inject(RISK_ENGINE_OPTIONS) options: RiskEngineOptions | null = null) {
    options ??= {};
    this.now = options.now ?? Date.now;
    this.rate = new OrderRateLimiter(options.rateRetainMs ?? 60_000, this.now);
    this.checks = options.checks ?? RISK_CHECKS;
  }

  /**
   * `mode` for baskets, which count as one order against the user's rate window: `TRIAL` (the
   * basket's check of a leg) checks the rate without recording it (the basket records one
   * order when every leg passed, `recordOrder`); `BASKET_LEG` (a leg's own check as it is
   * placed) neither checks nor records it. The margin is reserved as usual in both, under the
   * order id given (in a trial, the basket's hold for the leg).
   */
  check(order: RiskOrder, ctx: RiskContext, mode?: 'TRIAL' | 'BASKET_LEG'): RiskVerdict {
    if (order.action === 'CANCEL') return { pass: true, signals: NO_SIGNALS };

    const signals = dailyLossHit(ctx)
      ? [
          {
            kind: 'FLIP_USER_TO_REDUCING' as const,
            userId: order.userId,
            dayPnlPaise: ctx.account.dayPnlPaise,
          },
        ]
      : NO_SIGNALS;
    const input: CheckInput = {
      order,
      ctx,
      facts: deriveFacts(order, ctx),
      recentOrderCount:
        mode === 'BASKET_LEG' ? 0 : this.rate.count(order.userId, ctx.limits.rateWindowMs),
    };
    for (const check of this.checks) {
      const result = check(input);
      if (!result.pass) {
        return { pass: false, code: result.code, message: result.message, signals };
      }
    }

    const amount = input.facts.marginPaise ?? 0;
    // A modification's margin covers its unfilled units; what the filled ones hold stays.
    const reserved = ctx.funds.reserve(order.orderId, amount, {
      from: order.filledQuantity ?? 0,
      to: order.quantity,
    });
    if (!reserved.ok) {
      return {
        pass: false,
        code: RiskDenialCode.INSUFFICIENT_FUNDS,
        message: `Margin short by Rs ${(reserved.shortfallPaise / 100).toFixed(2)}`,
        signals,
      };
    }
    if (mode === undefined) this.rate.record(order.userId);

    const approval: RiskApproval = {
      pass: true,
      reducing: input.facts.reducing,
      reservation: { orderId: order.orderId, amountPaise: amount },
      signals,
    };
    const freeze = ctx.freezeQuantity;
    if (order.action === 'PLACE' && freeze !== undefined && order.quantity > freeze) {
      approval.slices = sliceQuantity(order.quantity, freeze, ctx.instrument?.lotSize ?? 1);
    }
    return approval;
  }

  /** Counts one order against the user's rate window (a basket whose legs all passed). */
  recordOrder(userId: string): void {
    this.rate.record(userId);
  }
}

/** Splits `quantity` into lot-multiple children no larger than the freeze quantity. */
export function sliceQuantity(quantity: number, freezeQuantity: number, lotSize: number): number[] {
  const max = Math.floor(freezeQuantity / lotSize) * lotSize;
  if (max <= 0) throw new RangeError('freeze quantity is below one lot');
  const slices: number[] = [];
  let left = quantity;
  while (left > max) {
    slices.push(max);
    left -= max;
  }
  if (left > 0) slices.push(left);
  return slices;
}
