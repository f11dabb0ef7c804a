import { EventEmitter } from 'node:events';

/** Map of event name to the listener's argument tuple. */
export type EventMap = Record<string, unknown[]>;

/** A Node EventEmitter whose event names and payloads are checked by the compiler. */
export class TypedEmitter<E extends EventMap> {
  private readonly emitter = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    // An 'error' event without a listener would throw out of a socket handler.
    if (event === 'error' && this.emitter.listenerCount('error') === 0) return false;
    return this.emitter.emit(event, ...args);
  }
}
