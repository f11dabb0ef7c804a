import { sendOrder } from './basket.service';

describe('basket send order', () => {
  const legs = [{ hedge: false }, { hedge: true }, { hedge: false }, { hedge: true }];

  it('is the given order without hedgeFirst', () => {
    expect(sendOrder(legs, false)).toEqual([0, 1, 2, 3]);
  });

  it('puts the hedges first with hedgeFirst, each group keeping the given order', () => {
    expect(sendOrder(legs, true)).toEqual([1, 3, 0, 2]);
  });
});
