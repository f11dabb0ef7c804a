import { SendWindow, type SendLimit } from './send-window';

/** What goes first when the budget is short: cancels, then risk-reducing orders, then the rest. */
export enum SendPriority {
  CANCEL = 0,
  REDUCE = 1,
  NEW = 2,
}
const PRIORITIES = [SendPriority.CANCEL, SendPriority.REDUCE, SendPriority.NEW] as const;

export interface SendRequest {
  /** Unique among queued requests (an order id, or an order id and the action). */
  id: string;
  dealer: string;
  segment: string;
  priority: SendPriority;
}

/**
 * A granted send: `commit` once the request is answered or failed (the send then counts from
 * that moment), or `release` if it never left. Until then it holds its place in the windows.
 */
export interface SendPermit {
  commit(): void;
  release(): void;
}

/** One send taken in a budget beyond this process (the windows shared on Redis). */
export interface GateSlot {
  commit(): void;
  release(): void;
}

/**
 * A budget every grant must also obtain, asynchronously (the order budget shared by the
 * instances on Redis). `reserve` answers a slot, or the milliseconds to wait before asking
 * again; it never rejects.
 */
export interface SendGate {
  reserve(segment: string): Promise<GateSlot | number>;
}

export interface QueuedCallbacks {
  granted(permit: SendPermit): void;
  /** The request waited longer than the bound: refused with this reason. */
  refused(reason: string): void;
}

export interface GovernorOptions {
  /** The firm's allowance per exchange segment (e.g. 10 in any second). */
  perSegment: readonly SendLimit[];
  /** The broker account's limits over all segments (DhanHQ: per second, minute, hour, day). */
  account: readonly SendLimit[];
  /** Added to every window against the jitter between our stamp and the broker's arrival. */
  guardMs: number;
  /** Longest a request may wait in the queue. */
  maxWaitMs: number;
  now: () => number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer: (fn: () => void, ms: number) => () => void;
  /** A budget beyond this process every grant must also obtain; none: grants are synchronous. */
  gate?: SendGate;
}

interface Ticket {
  request: SendRequest;
  enqueuedAt: number;
  deadline: number;
  callbacks: QueuedCallbacks;
}

/** How much of the budget a dealer had lately: what fair queueing ranks dealers by. */
class DealerShare {
  /** Grant times within the last window, oldest first. */
  private readonly recent: number[] = [];
  lastServedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly spanMs: number) {}

  served(now: number): void {
    this.recent.push(now);
    this.lastServedAt = now;
  }

  /** Grants within the last window. */
  count(now: number): number {
    while (this.recent.length > 0 && this.recent[0] + this.spanMs <= now) this.recent.shift();
    return this.recent.length;
  }
}

/**
 * One priority class of one segment: a FIFO per dealer. The next send goes to the dealer who
 * had the fewest grants in the last window, then to the one served longest ago (a dealer not
 * yet served goes first): max-min fairness with equal weights, so a dealer's burst takes its
 * turn with everyone else's and never the whole budget.
 */
class FairClass {
  readonly queues = new Map<string, Ticket[]>();
  size = 0;

  constructor(private readonly share: (dealer: string) => DealerShare) {}

  push(ticket: Ticket): void {
    const dealer = ticket.request.dealer;
    let queue = this.queues.get(dealer);
    if (queue === undefined) {
      queue = [];
      this.queues.set(dealer, queue);
    }
    queue.push(ticket);
    this.size++;
  }

  /** The next ticket by fair share. */
  take(now: number): Ticket | undefined {
    if (this.size === 0) return undefined;
    let best: string | undefined;
    let bestCount = 0;
    let bestLast = 0;
    for (const dealer of this.queues.keys()) {
      const share = this.share(dealer);
      const count = share.count(now);
      if (
        best === undefined ||
        count < bestCount ||
        (count === bestCount && share.lastServedAt < bestLast)
      ) {
        best = dealer;
        bestCount = count;
        bestLast = share.lastServedAt;
      }
    }
    const queue = this.queues.get(best as string) as Ticket[];
    const ticket = queue.shift() as Ticket;
    this.size--;
    if (queue.length === 0) this.queues.delete(best as string);
    return ticket;
  }

  remove(ticket: Ticket): boolean {
    const dealer = ticket.request.dealer;
    const queue = this.queues.get(dealer);
    if (queue === undefined) return false;
    const at = queue.indexOf(ticket);
    if (at < 0) return false;
    queue.splice(at, 1);
    this.size--;
    if (queue.length === 0) this.queues.delete(dealer);
    return true;
  }

  /**
   * How many tickets of this class go before `ticket`, if nothing else changes: a dealer with
   * c recent grants serves its j-th queued ticket at level c + j; lower levels go first, and
   * within a level the dealer served longest ago.
   */
  ahead(ticket: Ticket, now: number): number {
    const dealer = ticket.request.dealer;
    const k = (this.queues.get(dealer) as Ticket[]).indexOf(ticket);
    const mine = this.share(dealer);
    const level = mine.count(now) + k;
    let before = k;
    for (const [other, queue] of this.queues) {
      if (other === dealer) continue;
      const share = this.share(other);
      const first = share.count(now);
      const below = Math.min(queue.length, Math.max(0, level - first));
      const tiedFirst =
        level >= first && level < first + queue.length && share.lastServedAt < mine.lastServedAt;
      before += below + (tiedFirst ? 1 : 0);
    }
    return before;
  }

  earliestDeadline(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const queue of this.queues.values()) {
      if (queue.length > 0 && queue[0].deadline < earliest) earliest = queue[0].deadline;
    }
    return earliest;
  }

  /** Removes and returns the tickets past their deadline (each dealer's oldest come first). */
  expire(now: number): Ticket[] {
    const out: Ticket[] = [];
    for (const queue of this.queues.values()) {
      while (queue.length > 0 && queue[0].deadline <= now) out.push(queue.shift() as Ticket);
    }
    for (const t of out) {
      this.size--;
      const queue = this.queues.get(t.request.dealer);
      if (queue !== undefined && queue.length === 0) this.queues.delete(t.request.dealer);
    }
    return out;
  }
}

/** Counters per segment or per (segment, dealer). */
export interface GovernorCounters {
  sent: number;
  queued: number;
  refused: number;
  /** Total and longest queue wait of the sends granted after queueing, ms. */
  waitedMs: number;
  longestWaitMs: number;
}

class SegmentLane {
  readonly windows: SendWindow[];
  readonly classes: FairClass[];
  readonly counters: GovernorCounters = newCounters();
  readonly dealers = new Map<string, GovernorCounters>();
  /** With a gate: a reserve of the queue's head is out (its answer pumps again). */
  gating = false;
  /** With a gate: the gate refused; not asked again before this time. */
  retryAt = Number.NEGATIVE_INFINITY;
  private readonly shares = new Map<string, DealerShare>();

  constructor(
    readonly segment: string,
    limits: readonly SendLimit[],
    guardMs: number,
  ) {
    this.windows = limits.map((l) => new SendWindow(l, guardMs));
    const spanMs = Math.min(...limits.map((l) => l.intervalMs)) + guardMs;
    const share = (dealer: string): DealerShare => {
      let found = this.shares.get(dealer);
      if (found === undefined) {
        found = new DealerShare(spanMs);
        this.shares.set(dealer, found);
      }
      return found;
    };
    this.share = share;
    this.classes = PRIORITIES.map(() => new FairClass(share));
  }

  readonly share: (dealer: string) => DealerShare;

  get queued(): number {
    return this.classes[0].size + this.classes[1].size + this.classes[2].size;
  }

  dealer(id: string): GovernorCounters {
    let c = this.dealers.get(id);
    if (c === undefined) {
      c = newCounters();
      this.dealers.set(id, c);
    }
    return c;
  }
}

/** A gate that failed instead of answering (it should not): asked again after this. */
const GATE_ERROR_RETRY_MS = 50;

/** This process's permit and the gate's slot, committed or released together. */
function joined(held: SendPermit, slot: GateSlot): SendPermit {
  let done = false;
  return {
    commit: () => {
      if (done) return;
      done = true;
      held.commit();
      slot.commit();
    },
    release: () => {
      if (done) return;
      done = true;
      held.release();
      slot.release();
    },
  };
}

function newCounters(): GovernorCounters {
  return { sent: 0, queued: 0, refused: 0, waitedMs: 0, longestWaitMs: 0 };
}

export interface SegmentUsage {
  segment: string;
  /** The segment's per-second allowance. */
  allowancePerSecond: number;
  /** Sends in the last second (the guard included). */
  sentLastSecond: number;
  queued: number;
  counters: GovernorCounters;
  dealers: Array<{ dealer: string; queued: number; counters: GovernorCounters }>;
}

export interface AccountUsage {
  limit: number;
  intervalMs: number;
  used: number;
}

/**
 * The firm's order budget: a sliding window per exchange segment at the firm's allowance plus
 * the broker account's windows, shared by every dealer. A send goes at once when the budget
 * allows and nobody waits; otherwise it waits in its segment's queue: strict priority between
 * classes (cancels, risk-reducing orders, new exposure), fair shares between dealers within a
 * class (the dealer with the fewest sends in the last window goes next: one dealer's burst
 * takes its turn with everyone else's, never the whole budget), each request at most
 * `maxWaitMs`, then refused with a reason.
 *
 * Framework-free. Without a gate synchronous, one budget per process. With a gate (several
 * instances on one broker account) a grant also needs the gate's slot: `acquire` answers with a
 * promise, and the queue's head is granted when the gate's answer comes (one reserve out per
 * segment at a time); the order of grants within the instance stays the fair queue's.
 */
export class OrderGovernor {
  private readonly lanes = new Map<string, SegmentLane>();
  private readonly account: SendWindow[];
  private readonly tickets = new Map<string, { lane: SegmentLane; ticket: Ticket }>();
  private cancelTimer: (() => void) | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly gate: SendGate | undefined;

  constructor(private readonly options: GovernorOptions) {
    this.account = options.account.map((l) => new SendWindow(l, options.guardMs));
    this.gate = options.gate;
  }

  /**
   * A permit now when the budget allows and nobody of the segment waits; else undefined.
   * Always undefined with a gate (its answer is not synchronous): use `acquire`.
   */
  tryAcquire(request: SendRequest): SendPermit | undefined {
    if (this.gate !== undefined) return undefined;
    const lane = this.lane(request.segment);
    if (lane.queued > 0) return undefined;
    const now = this.options.now();
    if (this.waitMs(lane, now) > 0) return undefined;
    this.served(lane, request.dealer, now);
    return this.reserve(lane);
  }

  /**
   * `tryAcquire`, synchronous without a gate; with one, a promise of the permit when this
   * process's budget allows, nobody of the segment waits and the gate gives a slot (undefined
   * otherwise: queue the request).
   */
  acquire(request: SendRequest): SendPermit | undefined | Promise<SendPermit | undefined> {
    const gate = this.gate;
    if (gate === undefined) return this.tryAcquire(request);
    const lane = this.lane(request.segment);
    if (lane.queued > 0) return undefined;
    const now = this.options.now();
    if (now < lane.retryAt || this.waitMs(lane, now) > 0) return undefined;
    // Held here while the gate answers, so concurrent requests stay within this budget.
    const held = this.reserve(lane);
    return gate.reserve(request.segment).then(
      (slot) => {
        if (typeof slot === 'number') {
          held.release();
          lane.retryAt = this.options.now() + slot;
          return undefined;
        }
        if (this.closed) {
          slot.release();
          held.release();
          return undefined;
        }
        this.served(lane, request.dealer, this.options.now());
        return joined(held, slot);
      },
      (err: unknown) => {
        held.release();
        throw err;
      },
    );
  }

  /** Queues a request; `granted` or `refused` is called later (never synchronously). */
  enqueue(request: SendRequest, callbacks: QueuedCallbacks): void {
    if (this.tickets.has(request.id)) throw new Error(`request ${request.id} is already queued`);
    const lane = this.lane(request.segment);
    const now = this.options.now();
    const ticket: Ticket = {
      request,
      enqueuedAt: now,
      deadline: now + this.options.maxWaitMs,
      callbacks,
    };
    lane.classes[request.priority].push(ticket);
    lane.counters.queued++;
    lane.dealer(request.dealer).queued++;
    this.tickets.set(request.id, { lane, ticket });
    this.wake(0);
  }

  /** Takes a queued request out (its order was cancelled); false when it is not queued. */
  withdraw(id: string): boolean {
    const found = this.tickets.get(id);
    if (found === undefined) return false;
    this.tickets.delete(id);
    found.lane.classes[found.ticket.request.priority].remove(found.ticket);
    return true;
  }

  /** 1-based place in its segment's queue, or undefined when not queued. */
  position(id: string): number | undefined {
    const found = this.tickets.get(id);
    if (found === undefined) return undefined;
    const { lane, ticket } = found;
    let ahead = 0;
    for (const p of PRIORITIES) {
      if (p === ticket.request.priority) break;
      ahead += lane.classes[p].size;
    }
    const now = this.options.now();
    return ahead + lane.classes[ticket.request.priority].ahead(ticket, now) + 1;
  }

  isQueued(id: string): boolean {
    return this.tickets.has(id);
  }

  usage(): { segments: SegmentUsage[]; account: AccountUsage[] } {
    const now = this.options.now();
    const segments = [...this.lanes.entries()].map(([segment, lane]) => {
      const perSecond = lane.windows.find((w) => w.limit.intervalMs === 1_000) ?? lane.windows[0];
      const queuedBy = new Map<string, number>();
      for (const c of lane.classes) {
        for (const [dealer, q] of c.queues)
          queuedBy.set(dealer, (queuedBy.get(dealer) ?? 0) + q.length);
      }
      return {
        segment,
        allowancePerSecond: perSecond?.limit.limit ?? 0,
        sentLastSecond: perSecond?.used(now) ?? 0,
        queued: lane.queued,
        counters: { ...lane.counters },
        dealers: [...lane.dealers.entries()].map(([dealer, counters]) => ({
          dealer,
          queued: queuedBy.get(dealer) ?? 0,
          counters: { ...counters },
        })),
      };
    });
    const account = this.account.map((w) => ({
      limit: w.limit.limit,
      intervalMs: w.limit.intervalMs,
      used: w.used(now),
    }));
    return { segments, account };
  }

  /** Stops the timer; queued requests stay queued (the process is closing). */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private lane(segment: string): SegmentLane {
    let lane = this.lanes.get(segment);
    if (lane === undefined) {
      lane = new SegmentLane(segment, this.options.perSegment, this.options.guardMs);
      this.lanes.set(segment, lane);
    }
    return lane;
  }

  private waitMs(lane: SegmentLane, now: number): number {
    let wait = 0;
    for (const w of lane.windows) wait = Math.max(wait, w.waitMs(now));
    for (const w of this.account) wait = Math.max(wait, w.waitMs(now));
    return wait;
  }

  private served(lane: SegmentLane, dealer: string, now: number): void {
    lane.counters.sent++;
    lane.dealer(dealer).sent++;
    lane.share(dealer).served(now);
  }

  private reserve(lane: SegmentLane): SendPermit {
    for (const w of lane.windows) w.reserve();
    for (const w of this.account) w.reserve();
    let done = false;
    return {
      commit: () => {
        if (done) return;
        done = true;
        const now = this.options.now();
        for (const w of lane.windows) w.commit(now);
        for (const w of this.account) w.commit(now);
        if (this.tickets.size > 0) this.wake(0);
      },
      release: () => {
        if (done) return;
        done = true;
        for (const w of lane.windows) w.release();
        for (const w of this.account) w.release();
        // A gate's refusal may have been for this send's place: ask again.
        lane.retryAt = Number.NEGATIVE_INFINITY;
        if (this.tickets.size > 0) this.wake(0);
      },
    };
  }

  /** Grants what fits and refuses what waited too long, then sleeps until the next change. */
  private pump(): void {
    const now = this.options.now();
    let next = Number.POSITIVE_INFINITY;
    for (const lane of this.lanes.values()) {
      if (lane.queued === 0) continue;
      for (const c of lane.classes) {
        for (const ticket of c.expire(now)) this.refuse(lane, ticket, now);
      }
      for (;;) {
        if (lane.queued === 0) break;
        const wait = this.waitMs(lane, now);
        if (wait > 0) {
          next = Math.min(next, now + wait);
          break;
        }
        if (this.gate !== undefined) {
          if (lane.gating) break;
          if (now < lane.retryAt) {
            next = Math.min(next, lane.retryAt);
            break;
          }
          this.askGate(this.gate, lane);
          break;
        }
        this.grant(lane, this.takeNext(lane, now) as Ticket, now, this.reserve(lane));
      }
      for (const c of lane.classes) next = Math.min(next, c.earliestDeadline());
    }
    if (Number.isFinite(next)) this.wake(Math.max(0, next - now));
  }

  private grant(lane: SegmentLane, ticket: Ticket, now: number, permit: SendPermit): void {
    this.tickets.delete(ticket.request.id);
    lane.share(ticket.request.dealer).served(now);
    const waited = now - ticket.enqueuedAt;
    for (const counters of [lane.counters, lane.dealer(ticket.request.dealer)]) {
      counters.sent++;
      counters.waitedMs += waited;
      counters.longestWaitMs = Math.max(counters.longestWaitMs, waited);
    }
    ticket.callbacks.granted(permit);
  }

  /**
   * Asks the gate for one send of the lane, holding its place in this process's windows
   * meanwhile. With the slot, the queue's head at that moment (by priority and fair share) is
   * granted; refused, the lane waits as long as the gate said.
   */
  private askGate(gate: SendGate, lane: SegmentLane): void {
    lane.gating = true;
    const held = this.reserve(lane);
    const answered = (slot: GateSlot | number): void => {
      lane.gating = false;
      const now = this.options.now();
      if (typeof slot === 'number') {
        held.release();
        lane.retryAt = now + slot;
        this.wake(Math.max(0, lane.retryAt - now));
        return;
      }
      if (this.closed) {
        slot.release();
        held.release();
        return;
      }
      for (const c of lane.classes) {
        for (const ticket of c.expire(now)) this.refuse(lane, ticket, now);
      }
      const ticket = this.takeNext(lane, now);
      if (ticket === undefined) {
        slot.release();
        held.release();
        return;
      }
      this.grant(lane, ticket, now, joined(held, slot));
      if (lane.queued > 0) this.wake(0);
    };
    gate.reserve(lane.segment).then(answered, () => answered(GATE_ERROR_RETRY_MS));
  }

  private takeNext(lane: SegmentLane, now: number): Ticket | undefined {
    for (const c of lane.classes) {
      const t = c.take(now);
      if (t !== undefined) return t;
    }
    return undefined;
  }

  private refuse(lane: SegmentLane, ticket: Ticket, now: number): void {
    this.tickets.delete(ticket.request.id);
    lane.counters.refused++;
    lane.dealer(ticket.request.dealer).refused++;
    const waited = Math.round(now - ticket.enqueuedAt);
    ticket.callbacks.refused(
      `Not sent: waited ${waited} ms for the ${ticket.request.segment} order budget ` +
        `(at most ${this.options.maxWaitMs} ms)`,
    );
  }

  private wake(delayMs: number): void {
    const at = this.options.now() + delayMs;
    if (this.cancelTimer !== undefined && this.timerAt <= at) return;
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.options.setTimer(() => {
      this.cancelTimer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, delayMs);
  }
}
