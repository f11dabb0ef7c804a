import { EventEmitter } from 'node:events';
import {
  base32Decode,
  generateAccessToken,
  jwtExpiry,
  renewToken,
  totp,
  type IssuedToken,
} from '@app/dhan';

/** Where the token in use came from. */
export type BrokerTokenSource = 'environment' | 'simulator' | 'admin' | 'renewal' | 'totp';

export interface BrokerTokenStatus {
  /** VALID: in use; REFUSED: DhanHQ refused it (or it expired): every DhanHQ socket is paused. */
  state: 'VALID' | 'REFUSED';
  source: BrokerTokenSource;
  /** Epoch ms of the token's `exp`; undefined when it carries none. */
  expiresAt: number | undefined;
  /** Why DhanHQ refused it (a feed code, a login refusal, a failed renewal), while REFUSED. */
  refusedReason: string | undefined;
  /** Epoch ms since it is refused, while REFUSED. */
  refusedSince: number | undefined;
  /** The last failed renewal or generation (no token in it), until one succeeds. */
  lastError: string | undefined;
  /** Tokens installed since boot (admin, renewal, TOTP). */
  changes: number;
}

export interface BrokerTokenEvents {
  /** DhanHQ refused the token: pause, do not retry until `changed`. */
  refused: [BrokerTokenStatus];
  /** A new token is in use; `wasRefused`: sockets paused on the old one resume now. */
  changed: [BrokerTokenStatus & { wasRefused: boolean }];
}

export interface BrokerTokenLogger {
  log(fields: Record<string, unknown>): void;
  warn(fields: Record<string, unknown>): void;
  error(fields: Record<string, unknown>): void;
}

export interface BrokerTokenOptions {
  token: string;
  source: BrokerTokenSource;
  clientId: string;
  /** REST base (`.../v2`) for RenewToken. */
  apiUrl: string;
  /** Auth host for generateAccessToken. */
  authUrl: string;
  /** With both: a fresh token through generateAccessToken when renewal fails or is refused. */
  pin?: string;
  totpSecret?: string;
  /** Renew this long before `exp`. */
  renewBeforeMs: number;
  /** Wait before another try after a failed renewal or generation. */
  retryMs: number;
  logger: BrokerTokenLogger;
  /** Test seams; default the real calls. */
  renew?: typeof renewToken;
  generate?: typeof generateAccessToken;
}

/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The one DhanHQ access token of the process. Feed, order-update socket and REST read it per
 * use. It renews itself through RenewToken ahead of the JWT's `exp`; when DhanHQ refuses it
 * (feed 807/808/809, a refused login, a failed renewal past expiry) it says so once (`refused`),
 * so every socket pauses instead of retrying, and, with a PIN and TOTP secret, fetches a fresh
 * token. A token set by an admin (`set`) ends the pause (`changed`). Never logs the token.
 */
export class BrokerToken extends EventEmitter<BrokerTokenEvents> {
  private token: string;
  private source: BrokerTokenSource;
  private expiresAt: number | undefined;
  private refusal: { reason: string; since: number } | undefined;
  private lastError: string | undefined;
  private changes = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private mayObtain: () => boolean = () => true;

  constructor(private readonly opts: BrokerTokenOptions) {
    super();
    this.token = opts.token;
    this.source = opts.source;
    this.expiresAt = jwtExpiry(opts.token);
  }

  /** The token to send now. */
  current(): string {
    return this.token;
  }

  get paused(): boolean {
    return this.refusal !== undefined;
  }

  get canGenerate(): boolean {
    return this.opts.pin !== undefined && this.opts.totpSecret !== undefined;
  }

  status(): BrokerTokenStatus {
    return {
      state: this.refusal ? 'REFUSED' : 'VALID',
      source: this.source,
      expiresAt: this.expiresAt,
      refusedReason: this.refusal?.reason,
      refusedSince: this.refusal?.since,
      lastError: this.lastError,
      changes: this.changes,
    };
  }

  /** Arms the renewal timer (and refuses at once a token already past its `exp`). */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.expiresAt !== undefined && this.expiresAt <= Date.now()) {
      this.refused('the access token is past its expiry');
      return;
    }
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Installs a token (an admin's, or one DhanHQ issued); ends a pause. */
  set(token: string, source: BrokerTokenSource, expiresAt?: number): void {
    const wasRefused = this.refusal !== undefined;
    this.token = token;
    this.source = source;
    this.expiresAt = expiresAt ?? jwtExpiry(token);
    this.refusal = undefined;
    this.lastError = undefined;
    this.changes++;
    this.opts.logger.log({
      msg: 'DhanHQ access token in use',
      source,
      expiresAt: this.expiresAt !== undefined ? new Date(this.expiresAt).toISOString() : null,
      resumed: wasRefused,
    });
    if (this.running) this.schedule();
    this.emit('changed', { ...this.status(), wasRefused });
  }

  /**
   * DhanHQ refused the token in use. Said once per token: the first report pauses everything,
   * the echoes from the other sockets change nothing.
   */
  refused(reason: string): void {
    if (this.refusal) return;
    this.refusal = { reason, since: Date.now() };
    clearTimeout(this.timer);
    this.timer = undefined;
    this.opts.logger.error({
      msg: 'DhanHQ refused the access token: DhanHQ sockets paused until a new token arrives',
      reason,
      canGenerate: this.canGenerate,
    });
    this.emit('refused', this.status());
    if (this.running && this.canGenerate) void this.obtain(false);
  }

  /**
   * Renewal and generation only while `gate` says so (several instances: the leader alone, as
   * DhanHQ ends the previous token when it issues one); otherwise they are retried later.
   */
  gateRenewal(gate: () => boolean): void {
    this.mayObtain = gate;
  }

  /** Renews now (RenewToken, then generateAccessToken when configured). */
  renewNow(): Promise<void> {
    return this.obtain(true);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running || this.refusal || this.expiresAt === undefined) return;
    const delay = Math.max(0, this.expiresAt - this.opts.renewBeforeMs - Date.now());
    if (delay > MAX_TIMER_MS) return;
    this.timer = setTimeout(() => void this.obtain(true), delay);
    this.timer.unref();
  }

  private retryLater(): void {
    clearTimeout(this.timer);
    if (!this.running || (this.refusal && !this.canGenerate)) return;
    this.timer = setTimeout(() => void this.obtain(!this.refusal), this.opts.retryMs);
    this.timer.unref();
  }

  /** One renewal or generation at a time. */
  private obtain(tryRenew: boolean): Promise<void> {
    this.inFlight ??= this.attempt(tryRenew).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async attempt(tryRenew: boolean): Promise<void> {
    if (!this.mayObtain()) {
      this.retryLater();
      return;
    }
    const used = this.token;
    let issued: IssuedToken | undefined;
    let source: BrokerTokenSource = 'renewal';
    if (tryRenew && !this.refusal) {
      try {
        issued = await (this.opts.renew ?? renewToken)({
          apiUrl: this.opts.apiUrl,
          clientId: this.opts.clientId,
          accessToken: used,
        });
      } catch (err) {
        this.fail('RenewToken', err);
      }
    }
    if (!issued && this.canGenerate) {
      source = 'totp';
      try {
        issued = await (this.opts.generate ?? generateAccessToken)({
          authUrl: this.opts.authUrl,
          clientId: this.opts.clientId,
          pin: this.opts.pin!,
          totp: totp(base32Decode(this.opts.totpSecret!), Date.now()),
        });
      } catch (err) {
        this.fail('generateAccessToken', err);
      }
    }
    if (!this.running) return;
    if (this.token !== used) return; // an admin set one meanwhile
    if (issued) {
      this.set(issued.accessToken, source, issued.expiresAt);
      return;
    }
    if (!this.refusal && this.expiresAt !== undefined && this.expiresAt <= Date.now()) {
      this.refused(`the access token expired and could not be renewed (${this.lastError ?? ''})`);
    }
    this.retryLater();
  }

  private fail(call: string, err: unknown): void {
    const text = err instanceof Error ? err.message : String(err);
    this.lastError = `${call} failed: ${text}`;
    this.opts.logger.warn({ msg: 'DhanHQ token request failed', call, error: text });
  }
}
