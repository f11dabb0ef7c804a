import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Not, Repository, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { BadUserInputError, UnauthenticatedError } from '../common/errors/domain-error';
import type { Principal } from '../common/graphql/graphql-context';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import {
  SESSION_REVOKED,
  SessionRevokedEvent,
  USER_CHANGED,
  UserChangedEvent,
} from './auth.events';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { UserEntity } from './entities/user.entity';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';
import { UsersService, type UserChanges, type WriteHook } from './users.service';

export interface IssuedSession {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  user: UserEntity;
}

const INVALID_CREDENTIALS = 'Invalid username or password';
const INVALID_REFRESH = 'Invalid or expired refresh token';
/** How long a verified principal is trusted before the database is asked again. */
const PRINCIPAL_CACHE_MS = 2_000;

interface CachedPrincipal {
  principal: Omit<Principal, 'expiresAt'>;
  checkedAt: number;
}

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly principals = new Map<string, CachedPrincipal>();
  /** Bumped whenever sessions end, so a check racing a revocation does not cache its verdict. */
  private generation = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @InjectRepository(RefreshTokenEntity)
    private readonly refreshTokens: Repository<RefreshTokenEntity>,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly events: EventEmitter2,
  ) {}

  async login(username: string, password: string, address: string): Promise<IssuedSession> {
    await this.throttle.beforeAttempt(username, address);
    const user = await this.users.findByUsername(username);
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyAgainstDummy(password);
    if (!user || !valid || user.disabled) {
      await this.throttle.onFailure(username, address);
      this.logger.warn({ msg: 'login refused', username, address });
      throw new UnauthenticatedError(INVALID_CREDENTIALS);
    }
    await this.throttle.onSuccess(username, address);
    const now = this.clock.now();
    // The absolute end of this login: refresh rotations never move it.
    const sessionEndsAt = new Date(
      now.getTime() + this.config.auth.sessionMaxLifetimeSeconds * 1000,
    );
    return this.issue(user, randomUUID(), sessionEndsAt);
  }

  /** Rotates a refresh token. Presenting one already rotated revokes its whole family. */
  async refresh(refreshToken: string): Promise<IssuedSession> {
    const now = this.clock.now();
    const stored = await this.refreshTokens.findOneBy({
      tokenHash: this.tokens.hashRefreshToken(refreshToken),
    });
    if (!stored || stored.revokedAt !== null) throw new UnauthenticatedError(INVALID_REFRESH);
    if (stored.usedAt !== null) {
      await this.revokeFamily(stored.familyId, now);
      this.logger.warn({ msg: 'refresh token reuse: family revoked', userId: stored.userId });
      throw new UnauthenticatedError(INVALID_REFRESH);
    }
    const sessionEndsAt = stored.sessionExpiresAt ?? stored.expiresAt;
    if (Math.min(stored.expiresAt.getTime(), sessionEndsAt.getTime()) <= now.getTime()) {
      throw new UnauthenticatedError(INVALID_REFRESH);
    }
    const user = await this.users.findById(stored.userId);
    if (!user || user.disabled) {
      await this.revokeFamily(stored.familyId, now);
      throw new UnauthenticatedError(INVALID_REFRESH);
    }
    // Conditional update: of two concurrent rotations of one token, only one wins.
    const claimed = await this.refreshTokens.update(
      { id: stored.id, usedAt: IsNull(), revokedAt: IsNull() },
      { usedAt: now },
    );
    if (claimed.affected !== 1) {
      await this.revokeFamily(stored.familyId, now);
      throw new UnauthenticatedError(INVALID_REFRESH);
    }
    return this.issue(user, stored.familyId, sessionEndsAt);
  }

  /**
   * Ends a session: the family of `refreshToken` when given (it must be the caller's), else the
   * session of the access token used. Access tokens of that session stop working at once.
   */
  async logout(principal: Principal, refreshToken?: string): Promise<void> {
    const now = this.clock.now();
    let familyId = principal.sessionId;
    if (refreshToken !== undefined) {
      const stored = await this.refreshTokens.findOneBy({
        tokenHash: this.tokens.hashRefreshToken(refreshToken),
      });
      if (stored && stored.userId === principal.id) familyId = stored.familyId;
    }
    await this.revokeFamily(familyId, now);
    if (familyId !== principal.sessionId) await this.revokeFamily(principal.sessionId, now);
  }

  /**
   * Verifies an access token and checks the user and session still stand (cached briefly and
   * dropped as soon as an admin changes the user).
   */
  async authenticate(accessToken: string): Promise<Principal> {
    const claims = this.tokens.verifyAccessToken(accessToken);
    const key = `${claims.sub}:${claims.sid}`;
    const nowMs = this.clock.now().getTime();
    const cached = this.principals.get(key);
    const generation = this.generation;
    if (cached && nowMs - cached.checkedAt < PRINCIPAL_CACHE_MS) {
      return { ...cached.principal, expiresAt: claims.exp };
    }
    const user = await this.users.findById(claims.sub);
    if (!user || user.disabled) {
      this.principals.delete(key);
      throw new UnauthenticatedError('Account disabled or removed');
    }
    const sessionOpen = await this.refreshTokens.existsBy({
      familyId: claims.sid,
      userId: user.id,
      revokedAt: IsNull(),
    });
    if (!sessionOpen) {
      this.principals.delete(key);
      throw new UnauthenticatedError('Session ended');
    }
    const principal = {
      id: user.id,
      username: user.username,
      role: user.role,
      sessionId: claims.sid,
    };
    if (this.principals.size > 10_000) this.principals.clear();
    // A session ended while this check ran must not be cached as open.
    if (generation === this.generation) this.principals.set(key, { principal, checkedAt: nowMs });
    return { ...principal, expiresAt: claims.exp };
  }

  @OnEvent(USER_CHANGED)
  onUserChanged(event: UserChangedEvent): void {
    this.forgetUser(event.userId);
  }

  /**
   * Changes a user (admin). Setting a password ends every session of that user in the same
   * transaction: refresh tokens revoked, access tokens refused at once, sockets closed.
   */
  async updateUser(
    id: string,
    changes: UserChanges,
    alsoInTransaction?: WriteHook,
  ): Promise<UserEntity> {
    let ended: string[] = [];
    const saved = await this.users.update(id, changes, async (user, manager) => {
      if (changes.password !== undefined) {
        ended = await this.revokeSessionsOf(user.id, undefined, manager);
      }
      await alsoInTransaction?.(user, manager);
    });
    this.announceEnded(saved.id, ended);
    return saved;
  }

  /**
   * The caller changes their own password: the old one is checked under the login throttle;
   * every other session of the user ends, the caller's stays.
   */
  async changePassword(
    principal: Principal,
    oldPassword: string,
    newPassword: string,
    address: string,
  ): Promise<void> {
    await this.throttle.beforeAttempt(principal.username, address);
    const user = await this.users.findById(principal.id);
    if (!user || user.disabled) throw new UnauthenticatedError('Account disabled or removed');
    if (!(await this.hasher.verify(user.passwordHash, oldPassword))) {
      await this.throttle.onFailure(principal.username, address);
      this.logger.warn({ msg: 'password change refused', userId: user.id, address });
      throw new BadUserInputError('The current password is not correct');
    }
    await this.throttle.onSuccess(principal.username, address);
    let ended: string[] = [];
    await this.users.update(user.id, { password: newPassword }, async (changed, manager) => {
      ended = await this.revokeSessionsOf(changed.id, principal.sessionId, manager);
    });
    this.announceEnded(user.id, ended);
  }

  /** Revokes every open session of a user but `keep`; returns the session ids it ended. */
  private async revokeSessionsOf(
    userId: string,
    keep: string | undefined,
    manager: EntityManager,
  ): Promise<string[]> {
    const repository = manager.getRepository(RefreshTokenEntity);
    const where = {
      userId,
      revokedAt: IsNull(),
      ...(keep === undefined ? {} : { familyId: Not(keep) }),
    };
    const open = await repository.find({ select: { familyId: true }, where });
    const families = [...new Set(open.map((row) => row.familyId))];
    if (families.length > 0) {
      await repository.update(
        { userId, familyId: In(families), revokedAt: IsNull() },
        { revokedAt: this.clock.now() },
      );
    }
    return families;
  }

  /** After the commit: no cached verdict survives, and each ended session's sockets close. */
  private announceEnded(userId: string, sessionIds: string[]): void {
    this.generation += 1;
    this.forgetUser(userId);
    for (const sessionId of sessionIds) {
      this.events.emit(SESSION_REVOKED, new SessionRevokedEvent(sessionId));
    }
  }

  private forgetUser(userId: string): void {
    for (const key of this.principals.keys()) {
      if (key.startsWith(`${userId}:`)) this.principals.delete(key);
    }
  }

  private async issue(
    user: UserEntity,
    familyId: string,
    sessionEndsAt: Date,
  ): Promise<IssuedSession> {
    const now = this.clock.now();
    const refresh = this.tokens.newRefreshToken();
    const refreshEndsAt = now.getTime() + this.config.auth.refreshTokenTtlSeconds * 1000;
    await this.refreshTokens.insert({
      id: randomUUID(),
      userId: user.id,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: new Date(Math.min(refreshEndsAt, sessionEndsAt.getTime())),
      sessionExpiresAt: sessionEndsAt,
      usedAt: null,
      revokedAt: null,
      createdAt: now,
    });
    const access = this.tokens.signAccessToken(user.id, user.role, familyId, now, sessionEndsAt);
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresAt: access.expiresAt,
      user,
    };
  }

  private async revokeFamily(familyId: string, now: Date): Promise<void> {
    await this.refreshTokens.update({ familyId, revokedAt: IsNull() }, { revokedAt: now });
    this.generation += 1;
    for (const key of this.principals.keys()) {
      if (key.endsWith(`:${familyId}`)) this.principals.delete(key);
    }
    this.events.emit(SESSION_REVOKED, new SessionRevokedEvent(familyId));
  }
}
