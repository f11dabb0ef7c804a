import { Module } from '@nestjs/common';
import { AuthCoreModule } from './auth-core.module';
import { AuthResolver } from './auth.resolver';
import { ServerTimeResolver } from './server-time.resolver';

/** The user-schema auth API: login, refreshSession, logout, me, serverTime. */
@Module({
  imports: [AuthCoreModule],
  providers: [AuthResolver, ServerTimeResolver],
})
export class AuthModule {}
