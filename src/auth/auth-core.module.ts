import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AdminSocketRefusals } from './admin-socket-refusals';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { UserEntity } from './entities/user.entity';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';
import { UsersService } from './users.service';
import { WsAuthGate } from './ws-auth.gate';

/**
 * Users, tokens, sessions and the global guard, without resolvers: modules of either schema
 * import this one (GraphQL `include` follows imports, so resolvers live in AuthModule).
 */
@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, RefreshTokenEntity])],
  providers: [
    AuthService,
    UsersService,
    TokenService,
    PasswordHasher,
    LoginThrottle,
    AdminBootstrapService,
    WsAuthGate,
    AdminSocketRefusals,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [
    AuthService,
    UsersService,
    TokenService,
    AdminBootstrapService,
    WsAuthGate,
    AdminSocketRefusals,
  ],
})
export class AuthCoreModule {}
