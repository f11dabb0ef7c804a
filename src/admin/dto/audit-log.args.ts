import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsDate, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { GraphQLDateTime } from '../../common/scalars';

@ArgsType()
export class AuditLogArgs {
  @Field(() => Int, { defaultValue: 50 })
  @IsInt()
  @Min(1)
  @Max(500)
  limit!: number;

  @Field(() => Int, { defaultValue: 0, description: 'Rows to skip (paging), newest first.' })
  @IsInt()
  @Min(0)
  @Max(100_000)
  offset!: number;

  @Field(() => String, { nullable: true, description: 'The actor s user id or username.' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  actor?: string;

  @Field(() => String, { nullable: true, description: 'The action, e.g. cancelOrder.' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  action?: string;

  @Field(() => String, { nullable: true, description: 'The target (a user or order id).' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  target?: string;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'From this instant (inclusive).' })
  @IsOptional()
  @IsDate()
  from?: Date;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Until this instant (exclusive).' })
  @IsOptional()
  @IsDate()
  to?: Date;
}
