import { Injectable, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { FanoutCloseReason, TickFanout, type FragmentOf } from './tick-fanout';

/** WebSocket close codes of the `ticks` fan-out; the reason string names the cause (docs/MARKET_DATA.md). */
export const TICKS_CLOSE_CODES: Record<FanoutCloseReason, number> = {
  [FanoutCloseReason.BACKPRESSURE_HARD_CAP]: 4429,
  [FanoutCloseReason.BACKPRESSURE_TIMEOUT]: 4429,
  [FanoutCloseReason.SINK_ERROR]: 4500,
};

/** A `ticks` subscription the transport opened on a socket. */
export interface OpenedTicks {
  /** The fan-out client of the socket (one per socket, shared by its subscriptions). */
  clientId: string;
  /** Instruments no fan-out subscription wanted before this one. */
  newlyWanted: number[];
}

/** A socket went away: its fan-out client is gone with every subscription it had. */
export interface TicksSocketClosed {
  clientId: string;
  /** Instruments no remaining subscription wants. */
  noLongerWanted: number[];
}

/**
 * The `ticks` subscriptions' side of the WebSocket: one fan-out client per graphql-ws socket
 * (registered at its first subscription, removed when it closes), and the graphql-ws framing of
 * the fan-out's pre-serialised batches, written straight to the raw `ws` socket. It knows
 * nothing of instruments, references or quotas: MarketDataService decides what may be opened.
 */
@Injectable()
export class TickTransport {
  private readonly logger = new Logger(TickTransport.name);
  private readonly clients = new WeakMap<WebSocket, string>();
  private readonly closedListeners: Array<(event: TicksSocketClosed) => void> = [];
  private nextClient = 0;

  constructor(private readonly fanout: TickFanout) {}

  /** Called once per socket close, after the fan-out dropped that socket's client. */
  onSocketClosed(listener: (event: TicksSocketClosed) => void): void {
    this.closedListeners.push(listener);
  }

  /**
   * Subscribes the fan-out for one graphql-ws subscription on `socket`: its frames are
   * `{"id":..,"type":"next","payload":{"data":{"<responseKey>":[...]}}}`, sent as text while the
   * socket is open. Throws what the fan-out throws (nothing subscribed then).
   */
  open(
    socket: WebSocket,
    subscriptionId: string,
    responseKey: string,
    keys: readonly number[],
    fragment: FragmentOf | undefined,
  ): OpenedTicks {
    const clientId = this.clientOf(socket);
    const framing = {
      prefix: `{"id":${JSON.stringify(subscriptionId)},"type":"next","payload":{"data":{${JSON.stringify(responseKey)}:`,
      suffix: '}}}',
    };
    const sink = (payload: Buffer) => {
      if (socket.readyState === socket.OPEN) socket.send(payload, { binary: false });
    };
    const newlyWanted = this.fanout.subscribe(
      clientId,
      subscriptionId,
      keys,
      sink,
      framing,
      fragment,
    );
    return { clientId, newlyWanted };
  }

  /** Ends one subscription; returns the instruments no subscription wants any more. */
  close(clientId: string, subscriptionId: string): number[] {
    return this.fanout.unsubscribe(clientId, subscriptionId);
  }

  private clientOf(socket: WebSocket): string {
    const known = this.clients.get(socket);
    if (known !== undefined) return known;
    const id = `ws-${++this.nextClient}`;
    this.clients.set(socket, id);
    this.fanout.addClient(id, {
      unsentBytes: () => socket.bufferedAmount,
      close: (reason, message) => {
        this.logger.warn({ msg: 'closing a ticks client', client: id, reason, detail: message });
        socket.close(TICKS_CLOSE_CODES[reason], reason);
        // A peer that stopped reading may never finish the closing handshake.
        setTimeout(() => socket.terminate(), 5_000).unref();
      },
    });
    socket.once('close', () => {
      this.clients.delete(socket);
      const noLongerWanted = this.fanout.removeClient(id);
      for (const listener of this.closedListeners) listener({ clientId: id, noLongerWanted });
    });
    return id;
  }
}
