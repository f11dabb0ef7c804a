import { ExchangeSegment } from '@app/dhan';
import { registerEnumType } from '@nestjs/graphql';

registerEnumType(ExchangeSegment, {
  name: 'ExchangeSegment',
  description: "DhanHQ's exchange segment names.",
});

export { ExchangeSegment };
