import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthService } from '../auth/auth.service';
import { Role } from '../auth/role.enum';
import { UserModel } from '../auth/models/user.model';
import { UsersService } from '../auth/users.service';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import { ConflictError } from '../common/errors/domain-error';
import type { Principal } from '../common/graphql/graphql-context';
import { AuditLogService } from './audit-log.service';
import { AuditLogArgs } from './dto/audit-log.args';
import { CreateUserInput } from './dto/create-user.input';
import { UpdateUserInput } from './dto/update-user.input';
import { AuditLogEntryModel } from './models/audit-log-entry.model';

@Roles(Role.ADMIN)
@Resolver()
export class AdminUsersResolver {
  constructor(
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly audit: AuditLogService,
  ) {}

  @Query(() => [UserModel], { name: 'users' })
  listUsers(): Promise<UserModel[]> {
    return this.users.list();
  }

  @Mutation(() => UserModel)
  async createUser(
    @CurrentUser() actor: Principal,
    @Args('input') input: CreateUserInput,
  ): Promise<UserModel> {
    return this.users.create(input.username, input.password, input.role, (user, manager) =>
      this.audit.record(
        actor,
        'createUser',
        user.id,
        { username: input.username, role: input.role, password: input.password },
        manager,
      ),
    );
  }

  @Mutation(() => UserModel)
  async updateUser(
    @CurrentUser() actor: Principal,
    @Args('input') input: UpdateUserInput,
  ): Promise<UserModel> {
    if (input.id === actor.id && (input.disabled === true || input.role === Role.USER)) {
      throw new ConflictError('Admins cannot disable or demote themselves');
    }
    // Through AuthService: a password set by an admin ends every session of the user.
    return this.auth.updateUser(
      input.id,
      { role: input.role, disabled: input.disabled, password: input.password },
      (user, manager) =>
        this.audit.record(
          actor,
          'updateUser',
          user.id,
          {
            role: input.role,
            disabled: input.disabled,
            password: input.password === undefined ? undefined : 'changed',
          },
          manager,
        ),
    );
  }

  @Query(() => [AuditLogEntryModel], {
    description:
      'Newest first, filtered by actor, action, target and time, paged by limit and offset. ' +
      'Rows are written by the audited operations only; no API changes or deletes them.',
  })
  auditLog(
    @Args() { limit, offset, actor, action, target, from, to }: AuditLogArgs,
  ): Promise<AuditLogEntryModel[]> {
    return this.audit.search({ actor, action, target, from, to }, { limit, offset });
  }
}
