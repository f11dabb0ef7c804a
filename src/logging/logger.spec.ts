import { Writable } from 'node:stream';
import { createLogger, PinoNestLogger } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { lines, logger: createLogger({ logLevel: 'info' }, stream) };
}

describe('logger', () => {
  it('redacts credentials wherever they appear', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=1' } },
        input: { username: 'alice', password: 'hunter2hunter2' },
        session: { accessToken: 'token-a', refreshToken: 'token-r' },
        secret: 'top',
      },
      'login',
    );
    const text = JSON.stringify(lines);
    for (const secret of [
      'abc.def.ghi',
      'sid=1',
      'hunter2hunter2',
      'token-a',
      'token-r',
      '"top"',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      msg: 'login',
      input: { username: 'alice', password: '[REDACTED]' },
    });
  });

  it('redacts tokens put in a request URL', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        req: { method: 'GET', url: '/graphql?token=abc.def&x=1&access_token=zzz', ip: '10.0.0.1' },
      },
      'incoming request',
    );
    expect(lines[0].req).toEqual({
      method: 'GET',
      url: '/graphql?token=[REDACTED]&x=1&access_token=[REDACTED]',
      remoteAddress: '10.0.0.1',
    });
  });

  it('writes Nest logs as JSON with their context on the same stream', () => {
    const { lines, logger } = capture();
    const nest = new PinoNestLogger(logger);
    nest.log('Mapped {/graphql, POST} route', 'GraphQLModule');
    nest.warn({ msg: 'login refused', username: 'bob' }, 'AuthService');
    nest.error(new Error('boom'), 'Orders');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        context: 'GraphQLModule',
        msg: 'Mapped {/graphql, POST} route',
      }),
      expect.objectContaining({
        level: 40,
        context: 'AuthService',
        msg: 'login refused',
        username: 'bob',
      }),
      expect.objectContaining({ level: 50, context: 'Orders', msg: 'boom' }),
    ]);
  });
});
