import { Module } from '@nestjs/common';
import { GraphiqlController } from './graphiql.controller';

/** GraphiQL served from installed packages (no CDN); imported outside production only. */
@Module({ controllers: [GraphiqlController] })
export class GraphiqlModule {}
