/** Emitted after a user's role, password or disabled flag changed. */
export const USER_CHANGED = 'auth.user.changed';

export class UserChangedEvent {
  constructor(
    readonly userId: string,
    readonly disabled: boolean,
    readonly role: string,
  ) {}
}

/** Emitted after a login session (refresh-token family) was ended: logout or token reuse. */
export const SESSION_REVOKED = 'auth.session.revoked';

export class SessionRevokedEvent {
  constructor(readonly sessionId: string) {}
}

/** Emitted when a request or socket to the admin endpoint is refused (no token, bad token, not an admin). */
export const ADMIN_ACCESS_REFUSED = 'auth.admin.refused';

export type AdminRefusalReason = 'missing token' | 'invalid or expired token' | 'not an admin';

export class AdminAccessRefusedEvent {
  constructor(
    readonly reason: AdminRefusalReason,
    readonly address: string,
    readonly transport: 'http' | 'websocket',
    /** The GraphQL operation name or field, when known. */
    readonly operation: string | null,
    /** The user behind a valid token of a non-admin. */
    readonly actor: { id: string; username: string } | null,
  ) {}
}
