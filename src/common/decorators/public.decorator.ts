import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'auth:isPublic';

/** Lets unauthenticated callers reach a user-schema resolver or a controller route. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
