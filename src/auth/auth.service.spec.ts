import type { EventEmitter2 } from '@nestjs/event-emitter';
import { FindOperator, type Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { ErrorCode } from '../common/errors/error-code';
import type { ResolvedAppConfig } from '../config/app-config';
import { validateConfig } from '../config/validate-config';
import { AuthService } from './auth.service';
import type { RefreshTokenEntity } from './entities/refresh-token.entity';
import type { UserEntity } from './entities/user.entity';
import type { LoginThrottle } from './login-throttle';
import type { PasswordHasher } from './password-hasher';
import { Role } from './role.enum';
import { TokenService } from './token.service';
import type { UsersService } from './users.service';

type Criteria = Partial<Record<keyof RefreshTokenEntity, unknown>>;

/** Just the Repository calls AuthService makes, over an array. */
class FakeRefreshTokens {
  readonly rows: RefreshTokenEntity[] = [];

  private matches(row: RefreshTokenEntity, criteria: Criteria): boolean {
    return Object.entries(criteria).every(([key, expected]) => {
      const actual = row[key as keyof RefreshTokenEntity];
      if (expected instanceof FindOperator && expected.type === 'isNull') return actual === null;
      return actual === expected;
    });
  }

  async findOneBy(criteria: Criteria) {
    const row = this.rows.find((candidate) => this.matches(candidate, criteria));
    return row ? { ...row } : null;
  }
  async existsBy(criteria: Criteria) {
    return this.rows.some((row) => this.matches(row, criteria));
  }
  async insert(row: RefreshTokenEntity) {
    this.rows.push({ ...row });
  }
  async update(criteria: Criteria, changes: Partial<RefreshTokenEntity>) {
    const hit = this.rows.filter((row) => this.matches(row, criteria));
    for (const row of hit) Object.assign(row, changes);
    return { affected: hit.length };
  }
}

class FixedClock extends Clock {
  constructor(public time: Date) {
    super();
  }
  now(): Date {
    return new Date(this.time);
  }
}

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

describe('AuthService refresh rotation', () => {
  let store: FakeRefreshTokens;
  let clock: FixedClock;
  let user: UserEntity;
  let service: AuthService;

  beforeEach(() => {
    const base = validateConfig({
      JWT_SECRET: 'k'.repeat(40),
      REFRESH_TOKEN_TTL: '3600',
      SESSION_MAX_LIFETIME: '10800',
    });
    const config = {
      ...base,
      auth: { ...base.auth, jwtSecret: 'k'.repeat(40) },
    } as ResolvedAppConfig;
    store = new FakeRefreshTokens();
    clock = new FixedClock(new Date('2026-01-05T09:15:00Z'));
    user = {
      id: '11111111-1111-4111-8111-111111111111',
      username: 'alice',
      passwordHash: 'hash',
      role: Role.USER,
      disabled: false,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    };
    const users = {
      findByUsername: async (name: string) => (name === user.username ? user : null),
      findById: async (id: string) => (id === user.id ? user : null),
    } as unknown as UsersService;
    const hasher = {
      verify: async (_hash: string, password: string) => password === 'right',
      verifyAgainstDummy: async () => false,
    } as unknown as PasswordHasher;
    const throttle = {
      beforeAttempt: async () => undefined,
      onFailure: async () => undefined,
      onSuccess: async () => undefined,
    } as unknown as LoginThrottle;
    service = new AuthService(
      config,
      store as unknown as Repository<RefreshTokenEntity>,
      users,
      hasher,
      new TokenService(config),
      throttle,
      clock,
      { emit: () => true } as unknown as EventEmitter2,
    );
  });

  it('issues a new token in the same family and marks the old one used', async () => {
    const first = await service.login('alice', 'right', '127.0.0.1');
    const second = await service.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(store.rows).toHaveLength(2);
    expect(new Set(store.rows.map((row) => row.familyId)).size).toBe(1);
    expect(store.rows[0].usedAt).toEqual(clock.now());
    expect(store.rows[1].usedAt).toBeNull();
    // Only hashes are stored.
    expect(JSON.stringify(store.rows)).not.toContain(first.refreshToken);
  });

  it('revokes the whole family when a rotated token is presented again', async () => {
    const first = await service.login('alice', 'right', '127.0.0.1');
    const second = await service.refresh(first.refreshToken);
    expect(await codeOf(service.refresh(first.refreshToken))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(store.rows.every((row) => row.revokedAt !== null)).toBe(true);
    expect(await codeOf(service.refresh(second.refreshToken))).toBe(ErrorCode.UNAUTHENTICATED);
    await expect(service.authenticate(second.accessToken)).rejects.toMatchObject({
      code: ErrorCode.UNAUTHENTICATED,
    });
  });

  it('leaves other families alone', async () => {
    const phone = await service.login('alice', 'right', '127.0.0.1');
    const desk = await service.login('alice', 'right', '127.0.0.1');
    await service.refresh(phone.refreshToken);
    await codeOf(service.refresh(phone.refreshToken));
    const deskNext = await service.refresh(desk.refreshToken);
    expect(deskNext.user.username).toBe('alice');
  });

  it('refuses an expired refresh token', async () => {
    const first = await service.login('alice', 'right', '127.0.0.1');
    clock.time = new Date(clock.time.getTime() + 3600 * 1000);
    expect(await codeOf(service.refresh(first.refreshToken))).toBe(ErrorCode.UNAUTHENTICATED);
  });

  it('refuses and revokes when the user has been disabled', async () => {
    const first = await service.login('alice', 'right', '127.0.0.1');
    user.disabled = true;
    expect(await codeOf(service.refresh(first.refreshToken))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(store.rows[0].revokedAt).not.toBeNull();
  });

  it('refuses an unknown token without touching the store', async () => {
    await service.login('alice', 'right', '127.0.0.1');
    expect(await codeOf(service.refresh('x'.repeat(43)))).toBe(ErrorCode.UNAUTHENTICATED);
    expect(store.rows[0]).toMatchObject({ usedAt: null, revokedAt: null });
  });

  it('lets only one of two concurrent rotations of a token win, and then revokes the family', async () => {
    const first = await service.login('alice', 'right', '127.0.0.1');
    const results = await Promise.all([
      codeOf(service.refresh(first.refreshToken)),
      codeOf(service.refresh(first.refreshToken)),
    ]);
    expect(results.sort()).toEqual([ErrorCode.UNAUTHENTICATED, 'resolved'].sort());
    expect(store.rows.every((row) => row.revokedAt !== null)).toBe(true);
  });

  it('gives the same error for a wrong password and an unknown user', async () => {
    const wrong = service.login('alice', 'wrong', '127.0.0.1').catch((error: Error) => error);
    const unknown = service.login('nobody', 'right', '127.0.0.1').catch((error: Error) => error);
    const [a, b] = await Promise.all([wrong, unknown]);
    expect(a).toMatchObject({ code: ErrorCode.UNAUTHENTICATED, message: (b as Error).message });
  });

  it('ends a session at its absolute lifetime however often it is refreshed', async () => {
    const login = await service.login('alice', 'right', '127.0.0.1');
    const sessionEnd = clock.time.getTime() + 10_800 * 1000;
    let current = login;
    // Refresh every 50 minutes: each refresh token alone would live another hour.
    for (let minute = 50; minute < 180; minute += 50) {
      clock.time = new Date(clock.time.getTime() + 50 * 60 * 1000);
      current = await service.refresh(current.refreshToken);
      // Neither the access token nor the refresh token outlives the session.
      expect(current.expiresAt.getTime()).toBeLessThanOrEqual(sessionEnd);
      expect(store.rows.at(-1)!.expiresAt.getTime()).toBeLessThanOrEqual(sessionEnd);
      expect(store.rows.at(-1)!.sessionExpiresAt!.getTime()).toBe(sessionEnd);
    }
    clock.time = new Date(sessionEnd);
    expect(await codeOf(service.refresh(current.refreshToken))).toBe(ErrorCode.UNAUTHENTICATED);
  });
});
