import { Injectable } from '@nestjs/common';

/** Source of "now"; an abstract class so it doubles as the DI token and tests can swap it. */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
