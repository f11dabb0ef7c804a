import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { Role } from './role.enum';
import { UsersService } from './users.service';

export interface GeneratedCredentials {
  username: string;
  password: string;
}

export const GENERATED_ADMIN_USERNAME = 'admin';

/**
 * Makes sure an admin exists: ADMIN_USERNAME/ADMIN_PASSWORD when set; in the embedded default,
 * `admin` with a random password that main.ts prints once (it is never stored in clear).
 */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrapService.name);
  private generated?: GeneratedCredentials;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    private readonly users: UsersService,
  ) {}

  /** The credentials created at this boot, if any; read once by the caller that prints them. */
  takeGeneratedCredentials(): GeneratedCredentials | undefined {
    const generated = this.generated;
    this.generated = undefined;
    return generated;
  }

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.countAdmins()) > 0) return;
    const { adminUsername, adminPassword } = this.config.auth;
    if (adminUsername !== undefined && adminPassword !== undefined) {
      await this.users.create(adminUsername, adminPassword, Role.ADMIN);
      this.logger.log({ msg: 'admin created from ADMIN_USERNAME', username: adminUsername });
      return;
    }
    if (!this.config.embedded) {
      this.logger.warn('No admin exists: set ADMIN_USERNAME and ADMIN_PASSWORD to create one');
      return;
    }
    const password = randomBytes(18).toString('base64url');
    const username = (await this.users.findByUsername(GENERATED_ADMIN_USERNAME))
      ? `admin-${randomBytes(3).toString('hex')}`
      : GENERATED_ADMIN_USERNAME;
    await this.users.create(username, password, Role.ADMIN);
    this.generated = { username, password };
    this.logger.log({ msg: 'first-run admin created', username });
  }
}
