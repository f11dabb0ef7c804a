import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseLocalDate(value: unknown): string {
  if (typeof value !== 'string') {
    throw new GraphQLError('Date must be a string in YYYY-MM-DD form');
  }
  const match = DATE_PATTERN.exec(value);
  if (!match) throw new GraphQLError(`Date must be in YYYY-MM-DD form (got "${value}")`);
  const [, y, m, d] = match;
  const check = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (check.getUTCMonth() !== Number(m) - 1 || check.getUTCDate() !== Number(d)) {
    throw new GraphQLError(`Date is not a calendar date (got "${value}")`);
  }
  return value;
}

/**
 * `Date`: a calendar date without time or zone (an expiry, a trading day), as `YYYY-MM-DD`.
 * Carried as that string inside the server: a JS Date would invite time-zone shifts.
 * Use with `@Field(() => GraphQLLocalDate)`; instants use the built-in `DateTime`.
 */
export const GraphQLLocalDate = new GraphQLScalarType<string, string>({
  name: 'Date',
  description: 'A calendar date (YYYY-MM-DD), no time or zone.',
  serialize: (value) => parseLocalDate(value),
  parseValue: (value) => parseLocalDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Date must be a string literal');
    return parseLocalDate(ast.value);
  },
});
