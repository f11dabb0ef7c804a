import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType('AuditLogEntry')
export class AuditLogEntryModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true })
  actorId!: string | null;

  @Field()
  actorUsername!: string;

  @Field()
  action!: string;

  @Field(() => String, { nullable: true })
  target!: string | null;

  @Field({ description: 'The request as JSON, secrets removed.' })
  payload!: string;

  @Field()
  createdAt!: Date;
}
