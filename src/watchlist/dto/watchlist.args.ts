import { ArgsType, Field, ID } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, ValidateNested } from 'class-validator';
import { InstrumentInput } from '../../instruments/dto/instrument.input';

@ArgsType()
export class CreateWatchlistArgs {
  @Field({ description: '1-40 characters after trimming; unique per user.' })
  @IsString()
  name!: string;
}

@ArgsType()
export class RenameWatchlistArgs {
  @Field(() => ID)
  @IsString()
  id!: string;

  @Field({ description: '1-40 characters after trimming; unique per user.' })
  @IsString()
  name!: string;
}

@ArgsType()
export class WatchlistIdArgs {
  @Field(() => ID)
  @IsString()
  id!: string;
}

@ArgsType()
export class RemoveWatchlistItemArgs {
  @Field(() => ID)
  @IsString()
  watchlistId!: string;

  @Field(() => InstrumentInput)
  @ValidateNested()
  @Type(() => InstrumentInput)
  instrument!: InstrumentInput;
}

@ArgsType()
export class AddWatchlistItemArgs extends RemoveWatchlistItemArgs {
  @Field(() => Boolean, {
    nullable: true,
    description: 'For an underlying only: also stream its option chain around ATM.',
  })
  @IsOptional()
  @IsBoolean()
  includeOptionChain?: boolean | null;
}
