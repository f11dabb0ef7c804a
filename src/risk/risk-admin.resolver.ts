import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuditLogService } from '../admin/audit-log.service';
import { Role } from '../auth/role.enum';
import { UsersService } from '../auth/users.service';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import { BadUserInputError, NotFoundError } from '../common/errors/domain-error';
import type { Principal } from '../common/graphql/graphql-context';
import { RiskLimitsArgs, SetRiskLimitsArgs, SetTradingStateArgs } from './dto/risk-admin.inputs';
import { RiskLimitsModel, TradingScope, TradingStateModel } from './models/risk-admin.model';
import type { RiskLimits } from './risk-limits';
import { RiskService } from './risk.service';

function toModel(userId: string | null, limits: RiskLimits): RiskLimitsModel {
  const { margin: _margin, ...scalars } = limits;
  return { userId, ...scalars };
}

/** Admin schema: risk limits and the kill switch; every change is audited. */
@Roles(Role.ADMIN)
@Resolver()
export class RiskAdminResolver {
  constructor(
    private readonly risk: RiskService,
    private readonly users: UsersService,
    private readonly audit: AuditLogService,
  ) {}

  @Query(() => RiskLimitsModel, {
    description: 'A user s effective limits, or the default when userId is omitted.',
  })
  async riskLimits(@Args() { userId }: RiskLimitsArgs): Promise<RiskLimitsModel> {
    if (!userId) return toModel(null, await this.risk.defaultRiskLimits());
    await this.assertUser(userId);
    return toModel(userId, await this.risk.riskLimits(userId));
  }

  @Mutation(() => RiskLimitsModel, {
    description:
      'Changes the given fields (a user s own row, or the default); BAD_USER_INPUT when invalid.',
  })
  async setRiskLimits(
    @CurrentUser() actor: Principal,
    @Args() { userId, input }: SetRiskLimitsArgs,
  ): Promise<RiskLimitsModel> {
    if (userId) await this.assertUser(userId);
    const change = Object.fromEntries(
      Object.entries(input).filter(([, v]) => v !== undefined && v !== null),
    ) as Record<string, number | string>;
    const limits = await this.risk.setRiskLimits(userId ?? null, change as Partial<RiskLimits>);
    await this.audit.record(actor, 'setRiskLimits', userId ?? 'DEFAULT', change);
    return toModel(userId ?? null, limits);
  }

  @Mutation(() => TradingStateModel, {
    description: 'GLOBAL or one user s trading state: ACTIVE, REDUCING or HALTED.',
  })
  async setTradingState(
    @CurrentUser() actor: Principal,
    @Args() { scope, userId, state, reason }: SetTradingStateArgs,
  ): Promise<TradingStateModel> {
    if (scope === TradingScope.USER) {
      if (!userId) throw new BadUserInputError('scope USER needs a userId');
      await this.assertUser(userId);
    } else if (userId) {
      throw new BadUserInputError('scope GLOBAL takes no userId');
    }
    const view = await this.risk.setTradingState(scope, userId ?? null, state, reason ?? null);
    await this.audit.record(actor, 'setTradingState', userId ?? 'GLOBAL', {
      scope,
      state,
      reason: reason ?? null,
    });
    return { ...view, scope };
  }

  private async assertUser(userId: string): Promise<void> {
    if (!(await this.users.findById(userId))) throw new NotFoundError('User not found');
  }
}
