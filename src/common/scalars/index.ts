export { GraphQLISODateTime as GraphQLDateTime } from '@nestjs/graphql';
export { GraphQLLocalDate } from './local-date.scalar';
