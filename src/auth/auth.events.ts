/** Emitted after a user's role, password or disabled flag changed. */
export const USER_CHANGED = 'auth.user.changed';

export class UserChangedEvent {
  constructor(
    readonly userId: string,
    readonly disabled: boolean,
    readonly role: string,
  ) {}
}
