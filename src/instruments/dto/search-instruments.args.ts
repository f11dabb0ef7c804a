import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { DEFAULT_SEARCH_LIMIT } from '../instruments.service';

export const MAX_SEARCH_LIMIT = 100;

@ArgsType()
export class SearchInstrumentsArgs {
  @Field()
  @IsString()
  @IsNotEmpty({ message: 'search must not be empty' })
  @MaxLength(64)
  search!: string;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_SEARCH_LIMIT })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SEARCH_LIMIT)
  limit?: number | null;
}
