import { ArgsType, Field } from '@nestjs/graphql';
import { IsOptional, IsString, Length } from 'class-validator';

@ArgsType()
export class LogoutArgs {
  @Field({
    nullable: true,
    description: 'Ends the session of this refresh token; default: the current session.',
  })
  @IsOptional()
  @IsString()
  @Length(16, 128)
  refreshToken?: string;
}
