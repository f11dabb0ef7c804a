import { Kind } from 'graphql';
import { GraphQLLocalDate } from './local-date.scalar';

describe('Date scalar (YYYY-MM-DD)', () => {
  it('passes calendar dates through unchanged', () => {
    expect(GraphQLLocalDate.parseValue('2026-01-29')).toBe('2026-01-29');
    expect(GraphQLLocalDate.serialize('2024-02-29')).toBe('2024-02-29');
    expect(GraphQLLocalDate.parseLiteral({ kind: Kind.STRING, value: '2026-12-31' })).toBe(
      '2026-12-31',
    );
  });

  it.each(['2026-02-30', '2025-02-29', '2026-13-01', '26-01-29', '2026-01-29T00:00:00Z', ''])(
    'refuses %j',
    (value) => {
      expect(() => GraphQLLocalDate.parseValue(value)).toThrow(/Date/);
    },
  );

  it('refuses non-strings', () => {
    expect(() => GraphQLLocalDate.parseValue(20260129)).toThrow(/string/);
    expect(() => GraphQLLocalDate.parseLiteral({ kind: Kind.INT, value: '1' })).toThrow(/string/);
  });
});
