import { Injectable } from '@nestjs/common';

/**
 * The application's one source of "now": an abstract class so it doubles as the DI token, and
 * tests (a trading week, a day boundary) can swap it.
 */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
