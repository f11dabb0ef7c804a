import { Field, InputType } from '@nestjs/graphql';
import { IsEnum, IsString, Length, Matches } from 'class-validator';
import { Role } from '../../auth/role.enum';

@InputType()
export class CreateUserInput {
  @Field()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{3,64}$/, {
    message: 'username must be 3 to 64 letters, digits, dots, underscores or hyphens',
  })
  username!: string;

  @Field()
  @IsString()
  @Length(12, 256)
  password!: string;

  @Field(() => Role, { defaultValue: Role.USER })
  @IsEnum(Role)
  role!: Role;
}
