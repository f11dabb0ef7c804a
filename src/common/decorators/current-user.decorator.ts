import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { UnauthenticatedError } from '../errors/domain-error';
import type { GraphQLRequestContext, Principal } from '../graphql/graphql-context';

/** The caller authenticated by the guard, for HTTP operations and subscriptions alike. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const user = GqlExecutionContext.create(context).getContext<GraphQLRequestContext>().user;
  if (!user) throw new UnauthenticatedError();
  return user satisfies Principal;
});
