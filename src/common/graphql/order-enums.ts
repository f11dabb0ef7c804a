import { registerEnumType } from '@nestjs/graphql';

/**
 * DhanHQ's order words (src/trading/order-vocabulary.ts) as GraphQL enums, shared by the OMS
 * (orders) and the EMS (trades, positions).
 */
export enum OrderSideEnum {
  BUY = 'BUY',
  SELL = 'SELL',
}

export enum OrderTypeEnum {
  LIMIT = 'LIMIT',
  MARKET = 'MARKET',
  STOP_LOSS = 'STOP_LOSS',
  STOP_LOSS_MARKET = 'STOP_LOSS_MARKET',
}

export enum ProductTypeEnum {
  CNC = 'CNC',
  INTRADAY = 'INTRADAY',
  MARGIN = 'MARGIN',
  MTF = 'MTF',
  CO = 'CO',
  BO = 'BO',
}

export enum ValidityEnum {
  DAY = 'DAY',
  IOC = 'IOC',
}

registerEnumType(OrderSideEnum, { name: 'OrderSide' });
registerEnumType(OrderTypeEnum, { name: 'OrderType' });
registerEnumType(ProductTypeEnum, { name: 'ProductType' });
registerEnumType(ValidityEnum, { name: 'Validity' });
