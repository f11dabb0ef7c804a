import { SetMetadata } from '@nestjs/common';

export const ROLES_KEY = 'auth:roles';

/** Restricts a resolver or resolver class to callers holding one of these roles. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);
