import { Module } from '@nestjs/common';
import { defaultBundleDir, loadWebBundle } from './web-bundle';
import { WebController } from './web.controller';
import { WEB_BUNDLE } from './web.tokens';

/** Serves the built web terminal and operator view (see web/ at the repository root). */
@Module({
  controllers: [WebController],
  providers: [{ provide: WEB_BUNDLE, useFactory: () => loadWebBundle(defaultBundleDir()) }],
})
export class WebModule {}
