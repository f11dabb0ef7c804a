import { DHAN } from './index';

describe('placeholder', () => {
  it('exports', () => expect(DHAN).toBe(1));
});
