import { Logger } from '@nestjs/common';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ExecutionService } from '../execution/execution.service';
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
import { TradingState } from './risk.types';
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
    private readonly execution: ExecutionService,
  ) {}

  private readonly logger = new Logger(RiskAdminResolver.name);

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
    const before = await this.risk.tradingState(scope, userId ?? null);
    const view = await this.risk.setTradingState(scope, userId ?? null, state, reason ?? null);
    // A global halt also reaches the broker's own kill switch (ours stays per dealer).
    const brokerKillSwitch =
      scope === TradingScope.GLOBAL ? await this.brokerKillSwitch(before, state) : null;
    await this.audit.record(actor, 'setTradingState', userId ?? 'GLOBAL', {
      scope,
      state,
      reason: reason ?? null,
      before,
      brokerKillSwitch,
    });
    return { ...view, scope, brokerKillSwitch };
  }

  /**
   * ACTIVATE on a global HALTED, DEACTIVATE when the desk leaves HALTED; otherwise the broker's
   * current state. A broker that refuses or does not answer leaves our HALTED in force and is
   * reported as FAILED (logged), never as success.
   */
  private async brokerKillSwitch(before: TradingState, state: TradingState): Promise<string> {
    try {
      if (state === TradingState.HALTED) return await this.execution.setBrokerKillSwitch(true);
      if (before === TradingState.HALTED) return await this.execution.setBrokerKillSwitch(false);
      return await this.execution.brokerKillSwitch();
    } catch (error) {
      this.logger.error({ msg: 'broker kill switch call failed', state, err: error });
      return 'FAILED';
    }
  }

  private async assertUser(userId: string): Promise<void> {
    if (!(await this.users.findById(userId))) throw new NotFoundError('User not found');
  }
}
