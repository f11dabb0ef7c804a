import { Field, ID, InputType } from '@nestjs/graphql';
import { IsBoolean, IsEnum, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { Role } from '../../auth/role.enum';

@InputType()
export class UpdateUserInput {
  @Field(() => ID)
  @IsUUID()
  id!: string;

  @Field(() => Role, { nullable: true })
  @IsOptional()
  @IsEnum(Role)
  role?: Role;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @Field({ nullable: true, description: 'Sets a new password and ends every session of the user.' })
  @IsOptional()
  @IsString()
  @Length(12, 256)
  password?: string;
}
