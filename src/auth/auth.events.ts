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
