import { ArgsType, Field, ID, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsOptional, IsString, ValidateNested } from 'class-validator';
import { PlaceOrderInput } from '../../dto/order.inputs';

@InputType('PlaceBasketInput')
export class PlaceBasketInput {
  @Field(() => [PlaceOrderInput], {
    description:
      'At most 20 legs, each what placeOrder takes (its clientOrderId unique per user). A ' +
      'repeated basket (same first-leg key, same legs) returns the original.',
  })
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PlaceOrderInput)
  legs!: PlaceOrderInput[];

  @Field(() => Boolean, {
    nullable: true,
    description: 'Send hedges first: legs that reduce a position and bought options.',
  })
  @IsOptional()
  @IsBoolean()
  hedgeFirst?: boolean | null;
}

@ArgsType()
export class PlaceBasketArgs {
  @Field(() => PlaceBasketInput)
  @ValidateNested()
  @Type(() => PlaceBasketInput)
  input!: PlaceBasketInput;
}

@ArgsType()
export class BasketIdArgs {
  @Field(() => ID)
  @IsString()
  id!: string;
}
