import { EventEmitter } from 'node:events';
import { ExchangeSegment, FeedResponseCode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import type { WebSocket } from 'ws';
import { FanoutCloseReason, TickFanout } from './tick-fanout';
import { TickSerializer } from './tick-serializer';
import { TickStore } from './tick-store';
import { TICKS_CLOSE_CODES, TickTransport, type TicksSocketClosed } from './tick-transport';

const SEG = ExchangeSegment.NSE_FNO;
const key = (id: number) => instrumentKey(SEGMENT_CODE[SEG], id);
const T0 = 1_790_000_000;

/** Enough of a ws socket for the transport: records what is sent; close emits 'close'. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Array<{ text: string; binary: boolean | undefined }> = [];
  closedWith: { code: number; reason: string } | null = null;
  send(payload: Buffer, options: { binary?: boolean }): void {
    this.sent.push({ text: payload.toString('utf8'), binary: options.binary });
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {}
  frames(): Array<{ id: string; type: string; payload: { data: Record<string, unknown[]> } }> {
    return this.sent.map((s) => JSON.parse(s.text) as ReturnType<FakeSocket['frames']>[number]);
  }
}

function setup() {
  let ltt = T0;
  const store = new TickStore({ now: () => (T0 + 1) * 1000 });
  const fanout = new TickFanout(store, new TickSerializer(), {
    hardCapBytes: 10_000,
    highWaterBytes: 1_000,
    lowWaterBytes: 100,
    now: () => (T0 + 1) * 1000,
  });
  const transport = new TickTransport(fanout);
  const closed: TicksSocketClosed[] = [];
  transport.onSocketClosed((e) => closed.push(e));
  const tick = (id: number, ltp: number) =>
    store.apply({ type: FeedResponseCode.TICKER, segment: SEG, securityId: id, ltp, ltt: ++ltt });
  const open = (socket: FakeSocket, subscriptionId: string, ids: number[], responseKey = 'ticks') =>
    transport.open(
      socket as unknown as WebSocket,
      subscriptionId,
      responseKey,
      ids.map(key),
      undefined,
    );
  return { fanout, transport, closed, tick, open };
}

describe('TickTransport', () => {
  it('writes each batch as a graphql-ws next frame with the subscription id and response key, as text', () => {
    const { fanout, tick, open } = setup();
    const socket = new FakeSocket();
    tick(1, 101.5);
    open(socket, 'sub-"7"', [1], 'quotes');
    fanout.flush();
    expect(socket.sent).toHaveLength(1);
    expect(socket.sent[0].binary).toBe(false);
    const [frame] = socket.frames();
    expect(frame.id).toBe('sub-"7"');
    expect(frame.type).toBe('next');
    expect(Object.keys(frame.payload.data)).toEqual(['quotes']);
    expect(frame.payload.data.quotes).toEqual([
      expect.objectContaining({ securityId: '1', ltp: 101.5 }),
    ]);
  });

  it('registers one fan-out client per socket, shared by its subscriptions', () => {
    const { fanout, open } = setup();
    const a = new FakeSocket();
    const b = new FakeSocket();
    const first = open(a, '1', [1, 2]);
    const second = open(a, '2', [2, 3]);
    const other = open(b, '1', [3]);
    expect(second.clientId).toBe(first.clientId);
    expect(other.clientId).not.toBe(first.clientId);
    expect(first.newlyWanted).toEqual([key(1), key(2)]);
    expect(second.newlyWanted).toEqual([key(3)]);
    expect(other.newlyWanted).toEqual([]);
    expect(fanout.stats()).toMatchObject({ clients: 2, subscriptions: 3 });
  });

  it('close ends one subscription and returns what nothing wants any more', () => {
    const { fanout, transport, open } = setup();
    const socket = new FakeSocket();
    const { clientId } = open(socket, '1', [1, 2]);
    open(socket, '2', [2]);
    expect(transport.close(clientId, '1')).toEqual([key(1)]);
    expect(fanout.stats()).toMatchObject({ clients: 1, subscriptions: 1 });
  });

  it('drops the client when its socket closes and reports what no remaining subscription wants', () => {
    const { fanout, closed, open } = setup();
    const a = new FakeSocket();
    const b = new FakeSocket();
    const { clientId } = open(a, '1', [1, 2]);
    open(b, '1', [2]);
    a.close(1000, 'bye');
    expect(closed).toEqual([{ clientId, noLongerWanted: [key(1)] }]);
    expect(fanout.stats()).toMatchObject({ clients: 1, subscriptions: 1 });
  });

  it('closes a socket the fan-out gives up on with the close code of the reason', () => {
    const { fanout, tick, closed, open } = setup();
    const socket = new FakeSocket();
    const { clientId } = open(socket, '1', [1]);
    fanout.flush();
    socket.bufferedAmount = 10_001;
    tick(1, 102);
    fanout.flush();
    expect(socket.closedWith).toEqual({
      code: TICKS_CLOSE_CODES[FanoutCloseReason.BACKPRESSURE_HARD_CAP],
      reason: FanoutCloseReason.BACKPRESSURE_HARD_CAP,
    });
    expect(socket.closedWith?.code).toBe(4429);
    expect(closed.map((e) => e.clientId)).toEqual([clientId]);
  });

  it('writes nothing to a socket that is no longer open', () => {
    const { fanout, open } = setup();
    const socket = new FakeSocket();
    open(socket, '1', [1]);
    socket.readyState = 2; // closing
    fanout.flush();
    expect(socket.sent).toEqual([]);
  });
});
