import { Injectable, Logger } from '@nestjs/common';
import { InstrumentsService } from '../instruments/instruments.service';
import { OrderStatus } from '../trading/order-status';
import { OrderAdmissionService } from './order-admission.service';
import { OrderDispatchService } from './order-dispatch.service';
import { OrderReferences } from './order-references';
import { parseState } from './order-row';
import { OrderScheduler } from './order-scheduler';
import { OrderSlicingService } from './order-slicing.service';
import { OrderStore } from './order-store';

/**
 * At boot, every order a crash may have left mid-way is taken up again: NEW orders run RMS
 * again, IN_FLIGHT orders never sent and QUEUED orders are sent (or queued), IN_FLIGHT orders that were sent and UNKNOWN
 * orders are resolved by lookup (never resent blindly); acknowledged orders the broker no longer
 * knows are ended (BROKER_LOST) and their funds released. Working orders get their references
 * back.
 */
@Injectable()
export class OrderRecoveryService {
  private readonly logger = new Logger(OrderRecoveryService.name);

  constructor(
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    private readonly references: OrderReferences,
    private readonly instruments: InstrumentsService,
    private readonly admission: OrderAdmissionService,
    private readonly dispatch: OrderDispatchService,
    private readonly slicing: OrderSlicingService,
  ) {}

  async recover(): Promise<void> {
    const rows = await this.store.working();
    if (rows.length === 0) return;
    await this.instruments.ready();
    this.logger.log({ msg: 'recovering working orders', count: rows.length });
    const acknowledged: Array<Promise<void>> = [];
    for (const row of rows) this.slicing.adopt(row);
    for (const row of rows) {
      this.references.hold(row);
      const state = parseState(row);
      if (row.sliceCount > 0 && row.status !== OrderStatus.NEW) {
        // A sliced order is never at the broker: its missing children are made and sent, and
        // it shows what its children did.
        void this.scheduler.serial(row.id, async () => {
          await this.slicing.slice(row.id);
          await this.slicing.recompute(row.id);
        });
        continue;
      }
      // A child not yet approved is approved and sent with its parent (above), never re-checked.
      if (row.parentId !== null && row.status === OrderStatus.NEW) continue;
      switch (row.status as OrderStatus) {
        case OrderStatus.NEW:
          // Crashed before RMS: checked again now, then sent (or sliced) if approved.
          void this.scheduler.serial(row.id, async () => {
            const slices = await this.admission.admit(row.id);
            if (slices !== undefined) await this.slicing.slice(row.id, slices);
            else await this.dispatch.send(row.id);
          });
          break;
        case OrderStatus.IN_FLIGHT:
          if (state.sendAttempts === 0) {
            void this.scheduler.serial(row.id, () => this.dispatch.send(row.id));
          } else {
            // It may have reached the broker before the crash: resolve, never resend blindly.
            void this.scheduler.serial(row.id, async () => {
              await this.store.apply(
                await this.store.load(row.id),
                { type: 'AMBIGUOUS', cause: 'restart' },
                'recovery',
              );
              this.dispatch.resolveLater(row.id);
            });
          }
          break;
        case OrderStatus.QUEUED:
          // Never sent: back in the order budget's queue.
          void this.scheduler.serial(row.id, () => this.dispatch.send(row.id));
          break;
        case OrderStatus.UNKNOWN:
          this.dispatch.resolveLater(row.id);
          break;
        default:
          // Acknowledged before the restart: the broker may have lost it (the embedded
          // simulator's books start empty; a past day's order is gone). Ended if so.
          acknowledged.push(
            this.scheduler
              .serial(row.id, async () => {
                await this.dispatch.endIfLost(row.id);
              })
              .catch(() => this.dispatch.endIfLostLater(row.id, 1)),
          );
          break;
      }
    }
    await Promise.all(acknowledged);
  }
}
