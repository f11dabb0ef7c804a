import { Args, Context, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { NotFoundError } from '../common/errors/domain-error';
import type { GraphQLRequestContext, Principal } from '../common/graphql/graphql-context';
import { AuthService } from './auth.service';
import { ChangePasswordArgs } from './dto/change-password.args';
import { LoginArgs } from './dto/login.args';
import { LogoutArgs } from './dto/logout.args';
import { RefreshSessionArgs } from './dto/refresh-session.args';
import { AuthSessionModel } from './models/auth-session.model';
import { UserModel } from './models/user.model';
import { UsersService } from './users.service';

@Resolver()
export class AuthResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Public()
  @Mutation(() => AuthSessionModel)
  login(
    @Args() { username, password }: LoginArgs,
    @Context() context: GraphQLRequestContext,
  ): Promise<AuthSessionModel> {
    return this.auth.login(username, password, context.req?.ip ?? 'unknown');
  }

  @Public()
  @Mutation(() => AuthSessionModel)
  refreshSession(@Args() { refreshToken }: RefreshSessionArgs): Promise<AuthSessionModel> {
    return this.auth.refresh(refreshToken);
  }

  @Mutation(() => Boolean)
  async logout(
    @CurrentUser() user: Principal,
    @Args() { refreshToken }: LogoutArgs,
  ): Promise<boolean> {
    await this.auth.logout(user, refreshToken);
    return true;
  }

  @Mutation(() => Boolean, {
    description:
      "Changes the caller's password (the current one is required) and ends every other session of the caller.",
  })
  async changePassword(
    @CurrentUser() user: Principal,
    @Args() { oldPassword, newPassword }: ChangePasswordArgs,
    @Context() context: GraphQLRequestContext,
  ): Promise<boolean> {
    await this.auth.changePassword(user, oldPassword, newPassword, context.req?.ip ?? 'unknown');
    return true;
  }

  @Query(() => UserModel)
  async me(@CurrentUser() principal: Principal): Promise<UserModel> {
    const user = await this.users.findById(principal.id);
    if (!user) throw new NotFoundError('User not found');
    return user;
  }
}
