import { ArgsType, Field } from '@nestjs/graphql';
import { IsString, Length, MaxLength, MinLength } from 'class-validator';

@ArgsType()
export class LoginArgs {
  @Field()
  @IsString()
  @Length(1, 64)
  username!: string;

  @Field()
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}
