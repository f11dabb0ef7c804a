import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('InstrumentsReloadReport')
export class InstrumentsReloadReportModel {
  @Field({ description: 'False when the file was refused or the download failed.' })
  accepted!: boolean;

  @Field(() => Int, { description: 'Instruments in the file; 0 when the download failed.' })
  count!: number;

  @Field(() => String, { nullable: true, description: 'Why the file was not accepted.' })
  reason?: string;

  @Field(() => Int, { description: 'Version served after the reload.' })
  version!: number;

  @Field()
  source!: string;

  @Field(() => Int)
  durationMs!: number;
}
