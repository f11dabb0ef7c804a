import { DhanApiError, verifyToken } from '@app/dhan';
import { Inject, Logger, Module } from '@nestjs/common';
import {
  Args,
  Field,
  GraphQLISODateTime,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from '@nestjs/graphql';
import { AdminModule } from '../admin/admin.module';
import { AuditLogService } from '../admin/audit-log.service';
import { Role } from '../auth/role.enum';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import { BadUserInputError } from '../common/errors/domain-error';
import type { Principal } from '../common/graphql/graphql-context';
import type { BrokerTokenStatus } from './broker-token';
import { DHAN_ENDPOINTS, type DhanEndpoints } from './dhan-endpoints';

@ObjectType('BrokerTokenStatus', {
  description: 'The DhanHQ access token in use (never the token itself).',
})
export class BrokerTokenStatusModel {
  @Field({ description: 'VALID, or REFUSED: DhanHQ refused it and every DhanHQ socket is paused.' })
  state!: string;

  @Field({ description: 'environment, simulator, admin, renewal or totp.' })
  source!: string;

  @Field(() => GraphQLISODateTime, { nullable: true, description: "The token's expiry (JWT exp)." })
  expiresAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why DhanHQ refused it, while REFUSED.' })
  refusedReason!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Refused since, while REFUSED.' })
  refusedSince!: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'The last failed renewal or generation, until one succeeds.',
  })
  lastError!: string | null;

  @Field(() => Int, { description: 'Tokens installed since boot (admin, renewal, TOTP).' })
  changes!: number;

  @Field({ description: 'A fresh token can be generated with the configured PIN and TOTP.' })
  canGenerate!: boolean;
}

export function brokerTokenView(status: BrokerTokenStatus, canGenerate: boolean) {
  return {
    state: status.state,
    source: status.source,
    expiresAt: status.expiresAt !== undefined ? new Date(status.expiresAt) : null,
    refusedReason: status.refusedReason ?? null,
    refusedSince: status.refusedSince !== undefined ? new Date(status.refusedSince) : null,
    lastError: status.lastError ?? null,
    changes: status.changes,
    canGenerate,
  };
}

const TOKEN_SHAPE = /^[\x21-\x7e]{16,4096}$/;

/** Admin schema: the DhanHQ token's status and its replacement (audited, never echoed). */
@Roles(Role.ADMIN)
@Resolver()
export class BrokerTokenAdminResolver {
  private readonly logger = new Logger('BrokerToken');

  constructor(
    @Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints,
    private readonly audit: AuditLogService,
  ) {}

  @Query(() => BrokerTokenStatusModel, { description: 'The DhanHQ access token in use.' })
  brokerToken(): BrokerTokenStatusModel {
    const token = this.endpoints.token;
    return brokerTokenView(token.status(), token.canGenerate);
  }

  @Mutation(() => BrokerTokenStatusModel, {
    description:
      'Installs a DhanHQ access token (the daily token from Dhan Web). Checked with DhanHQ ' +
      'first; refused tokens change nothing. Paused sockets resume with their subscriptions ' +
      'and orders are reconciled. Audited; the token is never logged or returned.',
  })
  async setBrokerToken(
    @CurrentUser() actor: Principal,
    @Args('token') token: string,
  ): Promise<BrokerTokenStatusModel> {
    const value = token.trim();
    if (!TOKEN_SHAPE.test(value)) {
      throw new BadUserInputError('token must be 16 to 4096 printable characters, no spaces');
    }
    let verified = true;
    try {
      await verifyToken({
        apiUrl: this.endpoints.apiUrl,
        clientId: this.endpoints.clientId,
        accessToken: value,
      });
    } catch (err) {
      if (err instanceof DhanApiError && err.category === 'auth') {
        throw new BadUserInputError(`DhanHQ refused this token (${err.errorCode ?? 'auth'})`);
      }
      // DhanHQ unreachable: the token cannot be checked now; the sockets will tell.
      verified = false;
      this.logger.warn({ msg: 'could not check the new token with DhanHQ; installing it' });
    }
    const wasRefused = this.endpoints.token.paused;
    this.endpoints.token.set(value, 'admin');
    const status = this.endpoints.token.status();
    await this.audit.record(actor, 'setBrokerToken', null, {
      verified,
      resumed: wasRefused,
      expiresAt: status.expiresAt !== undefined ? new Date(status.expiresAt).toISOString() : null,
    });
    return brokerTokenView(status, this.endpoints.token.canGenerate);
  }
}

/** Admin schema: brokerToken, setBrokerToken. */
@Module({
  imports: [AdminModule],
  providers: [BrokerTokenAdminResolver],
})
export class DhanAdminModule {}
