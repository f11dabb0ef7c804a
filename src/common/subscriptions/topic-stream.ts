import type { EventEmitter2 } from '@nestjs/event-emitter';
import { PushStream, type PushStreamOptions } from './push-stream';

export interface TopicStreamOptions<E, T> extends Omit<PushStreamOptions<E, T>, 'onEnd'> {
  /** The server-side filter (for example the authenticated user's id): nothing else is queued. */
  filter: (event: E) => boolean;
}

/**
 * An in-process event topic as a subscription stream: the listener is added now and removed when
 * the subscription ends.
 */
export function topicStream<E, T>(
  emitter: EventEmitter2,
  topic: string,
  options: TopicStreamOptions<E, T>,
): PushStream<E, T> {
  const listener = (event: E): void => {
    if (options.filter(event)) stream.push(event);
  };
  const stream: PushStream<E, T> = new PushStream<E, T>({
    ...options,
    onEnd: () => emitter.off(topic, listener),
  });
  emitter.on(topic, listener);
  return stream;
}

/**
 * `produce()` every `intervalMs`; a reader that is behind gets only the latest. The timer is
 * cleared when the subscription ends.
 */
export function intervalStream<T>(intervalMs: number, produce: () => T): PushStream<T> {
  const timer = setInterval(() => stream.push(produce()), intervalMs);
  const stream: PushStream<T> = new PushStream<T>({
    conflateBy: () => 'latest',
    onEnd: () => clearInterval(timer),
  });
  return stream;
}
