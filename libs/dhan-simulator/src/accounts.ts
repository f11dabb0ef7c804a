import { EventEmitter } from 'node:events';
import { FeedDisconnectCode } from '@app/dhan/types';

export interface AccountOptions {
  clientId: string;
  accessToken: string;
  /** Data APIs subscribed (feed, quotes, option chain). Default true. */
  dataPlan?: boolean;
}

export interface Account {
  clientId: string;
  accessToken: string;
  dataPlan: boolean;
  tokenExpired: boolean;
}

export type AuthOutcome =
  { ok: true; account: Account } | { ok: false; reason: FeedDisconnectCode; account?: Account };

export interface AccountEvents {
  tokenExpired: [account: Account];
  dataPlanOff: [account: Account];
}

/** Credentials the simulator accepts, with the switches the fault hooks flip. */
export class Accounts extends EventEmitter<AccountEvents> {
  private readonly byClientId = new Map<string, Account>();

  constructor(accounts: AccountOptions[]) {
    super();
    for (const a of accounts) {
      this.byClientId.set(a.clientId, {
        clientId: a.clientId,
        accessToken: a.accessToken,
        dataPlan: a.dataPlan ?? true,
        tokenExpired: false,
      });
    }
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
    if (account.tokenExpired) {
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

  /** A new token for a client: valid again. */
  renewToken(clientId: string, accessToken: string): void {
    const account = this.byClientId.get(clientId);
    if (!account) throw new Error(`unknown client ${clientId}`);
    account.accessToken = accessToken;
    account.tokenExpired = false;
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
