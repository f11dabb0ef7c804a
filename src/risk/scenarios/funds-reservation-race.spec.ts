import { FundsLedger } from '../funds-ledger';
import { RiskDenialCode } from '../risk.types';
import { aContext, anEngine, anOrder, rupees } from '../__tests__/factories';

/** Resolves on a later turn of the event loop, so concurrent flows interleave at each await. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('scenario: two orders at once cannot both spend the same funds', () => {
  it('passes exactly one of two concurrent Rs 8,000 orders on Rs 10,000', async () => {
    const funds = new FundsLedger(rupees(10_000));
    const engine = anEngine();
    const started: string[] = [];

    // Each flow loads its context, awaits (as a repository read would), then checks and reserves.
    async function placeFlow(name: string) {
      const ctx = aContext({ funds });
      started.push(`${name}:loaded ${ctx.funds.available()}`);
      await nextTurn();
      await nextTurn();
      return engine.check(anOrder({ quantity: 8 }), ctx);
    }

    const verdicts = await Promise.all([placeFlow('a'), placeFlow('b')]);

    // Both flows saw the full balance before either reserved: they really interleaved.
    expect(started).toEqual([`a:loaded ${rupees(10_000)}`, `b:loaded ${rupees(10_000)}`]);
    expect(verdicts.filter((v) => v.pass)).toHaveLength(1);
    expect(verdicts.filter((v) => !v.pass)).toEqual([
      expect.objectContaining({ code: RiskDenialCode.INSUFFICIENT_FUNDS }),
    ]);
    expect(funds.snapshot()).toMatchObject({
      reservedPaise: rupees(8_000),
      availablePaise: rupees(2_000),
    });
  });

  it('passes both when the funds cover both', async () => {
    const funds = new FundsLedger(rupees(16_000));
    const engine = anEngine();
    const flow = async () => {
      const ctx = aContext({ funds });
      await nextTurn();
      return engine.check(anOrder({ quantity: 8 }), ctx);
    };
    const verdicts = await Promise.all([flow(), flow()]);
    expect(verdicts.every((v) => v.pass)).toBe(true);
    expect(funds.available()).toBe(0);
  });
});
