import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Role } from '../role.enum';

@ObjectType('User')
export class UserModel {
  @Field(() => ID)
  id!: string;

  @Field()
  username!: string;

  @Field(() => Role)
  role!: Role;

  @Field()
  disabled!: boolean;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}
