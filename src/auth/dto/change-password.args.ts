import { ArgsType, Field } from '@nestjs/graphql';
import { IsString, Length, MaxLength, MinLength } from 'class-validator';

@ArgsType()
export class ChangePasswordArgs {
  @Field({ description: 'The current password.' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  oldPassword!: string;

  @Field({ description: 'The new password, 12 to 256 characters.' })
  @IsString()
  @Length(12, 256)
  newPassword!: string;
}
