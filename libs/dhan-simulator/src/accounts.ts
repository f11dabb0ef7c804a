import { createHmac } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { jwtExpiry } from '@app/dhan/auth/token-api';
import { FeedDisconnectCode } from '@app/dhan/types';

export interface AccountOptions {
  clientId: string;
  /** A token to accept as is (a JWT's `exp` is honoured); default: one issued at start. */
  accessToken?: string;
  /** Data APIs subscribed (feed, quotes, option chain). Default true. */
  dataPlan?: boolean;
  /** PIN and base32 TOTP secret for `generateAccessToken`; without them that flow is refused. */
  pin?: string;
  totpSecret?: string;
}

export interface Account {
  clientId: string;
  accessToken: string;
  dataPlan: boolean;
  tokenExpired: boolean;
  /** Epoch ms the token stops being accepted (its JWT `exp`); undefined = never. */
  expiresAt: number | undefined;
  pin: string | undefined;
  totpSecret: string | undefined;
}

export interface TokenPolicy {
  /** Lifetime of an issued token, ms. DhanHQ: 24 h. */
  ttlMs: number;
  /** Business time of the simulator (token `iat`/`exp`). */
  now: () => number;
  /** Signs issued tokens (HS512, like DhanHQ's). */
  secret: string;
}

const DEFAULT_POLICY: TokenPolicy = { ttlMs: 86_400_000, now: () => Date.now(), secret: 'sim' };
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

export type AuthOutcome =
  { ok: true; account: Account } | { ok: false; reason: FeedDisconnectCode; account?: Account };

export interface AccountEvents {
  tokenExpired: [account: Account];
  dataPlanOff: [account: Account];
}

/** Credentials the simulator accepts, with the switches the fault hooks flip. */
export class Accounts extends EventEmitter<AccountEvents> {
  private readonly byClientId = new Map<string, Account>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly policy: TokenPolicy;
  private issued = 0;

  constructor(accounts: AccountOptions[], policy: Partial<TokenPolicy> = {}) {
    super();
    this.policy = { ...DEFAULT_POLICY, ...policy };
    for (const a of accounts) {
      const account: Account = {
        clientId: a.clientId,
        accessToken: '',
        dataPlan: a.dataPlan ?? true,
        tokenExpired: false,
        expiresAt: undefined,
        pin: a.pin,
        totpSecret: a.totpSecret,
      };
      this.byClientId.set(a.clientId, account);
      if (a.accessToken !== undefined) this.renewToken(a.clientId, a.accessToken);
      else this.issueToken(a.clientId);
    }
  }

  /**
   * A new token for a client, as DhanHQ makes one (a JWT signed HS512 with `iss`, `iat`, `exp`,
   * `dhanClientId`): it replaces the previous one at once, which is then refused with 809.
   * Expires by itself at `exp` (live sockets get 807).
   */
  issueToken(clientId: string, ttlMs: number = this.policy.ttlMs): string {
    const account = this.byClientId.get(clientId);
    if (!account) throw new Error(`unknown client ${clientId}`);
    const iat = this.policy.now();
    // `exp` is in whole seconds in the JWT; the account expires at exactly that instant.
    const exp = Math.floor((iat + ttlMs) / 1000) * 1000;
    const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'HS512' })).toString('base64url');
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'dhan',
        partnerId: '',
        exp: Math.floor(exp / 1000),
        iat: Math.floor(iat / 1000),
        tokenConsumerType: 'SELF',
        webhookUrl: '',
        dhanClientId: clientId,
        jti: `${clientId}-${++this.issued}`,
      }),
    ).toString('base64url');
    const signature = createHmac('sha512', this.policy.secret)
      .update(`${header}.${payload}`)
      .digest('base64url');
    const token = `${header}.${payload}.${signature}`;
    this.install(account, token, exp);
    return token;
  }

  /** Stops the real-time expiry timers. */
  stop(): void {
    for (const timer of this.expiryTimers.values()) clearTimeout(timer);
    this.expiryTimers.clear();
  }

  private install(account: Account, token: string, expiresAt: number | undefined): void {
    account.accessToken = token;
    account.tokenExpired = false;
    account.expiresAt = expiresAt;
    const previous = this.expiryTimers.get(account.clientId);
    if (previous) clearTimeout(previous);
    this.expiryTimers.delete(account.clientId);
    if (expiresAt === undefined) return;
    const delay = Math.max(0, expiresAt - this.policy.now());
    if (delay > MAX_TIMER_MS) return;
    const timer = setTimeout(() => {
      this.expiryTimers.delete(account.clientId);
      if (account.accessToken === token && !account.tokenExpired) {
        this.expireToken(account.clientId);
      }
    }, delay);
    timer.unref();
    this.expiryTimers.set(account.clientId, timer);
  }

  /** Whether the account's token is past its `exp` (or was expired by the fault hook). */
  isExpired(account: Account): boolean {
    return (
      account.tokenExpired ||
      (account.expiresAt !== undefined && this.policy.now() >= account.expiresAt)
    );
  }

  get(clientId: string): Account | undefined {
    return this.byClientId.get(clientId);
  }

  all(): Account[] {
    return [...this.byClientId.values()];
  }

  /**
   * Feed / data-API authentication: unknown client 808, wrong token 809, expired 807; with
   * `requireData`, no data plan 806.
   */
  authenticate(
    clientId: string | undefined | null,
    token: string | undefined | null,
    requireData: boolean,
  ): AuthOutcome {
    if (!clientId || !token) return { ok: false, reason: FeedDisconnectCode.AUTHENTICATION_FAILED };
    const account = this.byClientId.get(clientId);
    if (!account) return { ok: false, reason: FeedDisconnectCode.AUTHENTICATION_FAILED };
    if (account.accessToken !== token) {
      return { ok: false, reason: FeedDisconnectCode.ACCESS_TOKEN_INVALID, account };
    }
    if (this.isExpired(account)) {
      return { ok: false, reason: FeedDisconnectCode.ACCESS_TOKEN_EXPIRED, account };
    }
    if (requireData && !account.dataPlan) {
      return { ok: false, reason: FeedDisconnectCode.DATA_API_NOT_SUBSCRIBED, account };
    }
    return { ok: true, account };
  }

  /** Expires the token of one client (or every client): live sockets get 807. */
  expireToken(clientId?: string): void {
    for (const account of this.byClientId.values()) {
      if (clientId !== undefined && account.clientId !== clientId) continue;
      account.tokenExpired = true;
      this.emit('tokenExpired', account);
    }
  }

  /** Installs a given token for a client (valid again; a JWT's `exp` is honoured). */
  renewToken(clientId: string, accessToken: string): void {
    const account = this.byClientId.get(clientId);
    if (!account) throw new Error(`unknown client ${clientId}`);
    this.install(account, accessToken, jwtExpiry(accessToken));
  }

  setDataPlan(clientId: string, on: boolean): void {
    const account = this.byClientId.get(clientId);
    if (!account) throw new Error(`unknown client ${clientId}`);
    account.dataPlan = on;
    if (!on) this.emit('dataPlanOff', account);
  }
}

/** What the simulator writes to its log; the default discards everything. */
export interface SimulatorLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: SimulatorLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};
