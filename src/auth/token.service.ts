import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { UnauthenticatedError } from '../common/errors/domain-error';

export interface AccessClaims {
  sub: string;
  sid: string;
  role: string;
  exp: number;
}

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

const ALGORITHM = 'HS256';

@Injectable()
export class TokenService {
  private readonly jwt: JwtService;

  constructor(@Inject(APP_CONFIG) private readonly config: ResolvedAppConfig) {
    this.jwt = new JwtService({ secret: config.auth.jwtSecret });
  }

  /** `notAfter`: the session's absolute end, which the token never outlives. */
  signAccessToken(
    userId: string,
    role: string,
    sessionId: string,
    now: Date,
    notAfter?: Date,
  ): IssuedAccessToken {
    const iat = Math.floor(now.getTime() / 1000);
    const ttlEnd = iat + this.config.auth.accessTokenTtlSeconds;
    // In the session's last second this is already past: such a token is simply refused.
    const exp =
      notAfter === undefined ? ttlEnd : Math.min(ttlEnd, Math.floor(notAfter.getTime() / 1000));
    const token = this.jwt.sign(
      { sid: sessionId, role, iat, exp },
      {
        algorithm: ALGORITHM,
        subject: userId,
        issuer: this.config.auth.jwtIssuer,
        audience: this.config.auth.jwtAudience,
        jwtid: randomUUID(),
      },
    );
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Signature (HS256 only), issuer, audience and expiry; throws UNAUTHENTICATED otherwise. */
  verifyAccessToken(token: string): AccessClaims {
    let claims: Partial<AccessClaims>;
    try {
      claims = this.jwt.verify<Partial<AccessClaims>>(token, {
        algorithms: [ALGORITHM],
        issuer: this.config.auth.jwtIssuer,
        audience: this.config.auth.jwtAudience,
      });
    } catch {
      throw new UnauthenticatedError('Invalid or expired access token');
    }
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.sid !== 'string' ||
      typeof claims.role !== 'string' ||
      typeof claims.exp !== 'number'
    ) {
      throw new UnauthenticatedError('Invalid or expired access token');
    }
    return claims as AccessClaims;
  }

  newRefreshToken(): { token: string; hash: string } {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: this.hashRefreshToken(token) };
  }

  hashRefreshToken(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }
}
