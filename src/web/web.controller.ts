import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/decorators/public.decorator';
import {
  contentSecurityPolicy,
  NOT_BUILT_PAGE,
  type BundleFile,
  type WebBundle,
} from './web-bundle';
import { WEB_BUNDLE } from './web.tokens';

/**
 * The web terminal (`/`), the operator view (`/admin`) and their hashed assets. The pages only
 * talk to this server's GraphQL endpoints; their data needs a login like any other client.
 */
@Public()
@Controller()
export class WebController {
  constructor(@Inject(WEB_BUNDLE) private readonly bundle: WebBundle) {}

  @Get()
  terminal(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.sendPage(request, reply, this.bundle.page('index'));
  }

  @Get('admin')
  admin(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.sendPage(request, reply, this.bundle.page('admin'));
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    const file = this.bundle.asset(name);
    if (!file) {
      void reply.status(404).header('content-type', 'text/plain; charset=utf-8').send('Not found');
      return;
    }
    // Names carry a content hash: a changed file is a new name.
    void reply
      .header('content-type', file.contentType)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(file.body);
  }

  private sendPage(
    request: FastifyRequest,
    reply: FastifyReply,
    page: BundleFile | undefined,
  ): void {
    void reply
      .status(page ? 200 : 503)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', contentSecurityPolicy(request.headers.host))
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(page ? page.body : NOT_BUILT_PAGE);
  }
}
