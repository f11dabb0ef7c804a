import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { GqlExecutionContext, type GqlContextType } from '@nestjs/graphql';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator';
import { ROLES_KEY } from '../common/decorators/roles.decorator';
import { ForbiddenError, UnauthenticatedError } from '../common/errors/domain-error';
import type { GraphQLRequestContext, Principal } from '../common/graphql/graphql-context';
import {
  ADMIN_ACCESS_REFUSED,
  AdminAccessRefusedEvent,
  type AdminRefusalReason,
} from './auth.events';
import { AuthService } from './auth.service';
import { Role } from './role.enum';

export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  return match?.[1];
}

/**
 * The one authentication and role guard (global). GraphQL over HTTP reads the Authorization
 * header; subscriptions use the token given in connection_init. Every operation on the admin
 * endpoint needs the ADMIN role, whatever its resolver declares.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly events: EventEmitter2,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true;

    if (context.getType<GqlContextType>() !== 'graphql') {
      if (isPublic) return true;
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new UnauthenticatedError();
      await this.auth.authenticate(token);
      return true;
    }

    const gqlContext = GqlExecutionContext.create(context).getContext<GraphQLRequestContext>();
    const admin = gqlContext.endpoint === 'admin';
    if (isPublic && !admin) return true;

    // Refusals on the admin endpoint are audited (coalesced by the admin module).
    const refuse = (reason: AdminRefusalReason, actor: Principal | null = null) => {
      if (!admin) return;
      const info = GqlExecutionContext.create(context).getInfo<{
        fieldName?: string;
        operation?: { name?: { value: string } };
      }>();
      this.events.emit(
        ADMIN_ACCESS_REFUSED,
        new AdminAccessRefusedEvent(
          reason,
          gqlContext.req?.ip ?? 'unknown',
          gqlContext.req ? 'http' : 'websocket',
          info?.operation?.name?.value ?? info?.fieldName ?? null,
          actor && { id: actor.id, username: actor.username },
        ),
      );
    };
    const token = gqlContext.accessToken ?? bearerToken(gqlContext.req?.headers.authorization);
    if (!token) {
      refuse('missing token');
      throw new UnauthenticatedError();
    }
    let user: Principal;
    try {
      user = await this.auth.authenticate(token);
    } catch (error) {
      refuse('invalid or expired token');
      throw error;
    }
    gqlContext.user = user;

    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets);
    if (admin && user.role !== Role.ADMIN) {
      refuse('not an admin', user);
      throw new ForbiddenError('Admin role required');
    }
    if (roles && roles.length > 0 && !roles.includes(user.role)) {
      throw new ForbiddenError('Role not allowed');
    }
    return true;
  }
}
