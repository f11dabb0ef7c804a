import { Field, ObjectType } from '@nestjs/graphql';
import { UserModel } from './user.model';

@ObjectType('AuthSession')
export class AuthSessionModel {
  @Field({ description: 'Short-lived JWT for the Authorization header and connection_init.' })
  accessToken!: string;

  @Field({ description: 'Single-use token for refreshSession; rotated on every use.' })
  refreshToken!: string;

  @Field({ description: 'When accessToken expires.' })
  expiresAt!: Date;

  @Field(() => UserModel)
  user!: UserModel;
}
