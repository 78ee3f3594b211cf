import { Worker } from 'bullmq';
import type { DeliveryJob, DeliveryJobData } from './job.js';

/**
 * BullMQ's Worker, but for one thing: when fetching a job fails with an error that is not a lost
 * connection (Redis out of memory, CROSSSLOT), BullMQ fetches again at once, in a loop (seen:
 * 56,459 errors in 15 s at maxmemory). Here each such failure waits `runRetryDelay` first.
 */
export class WebhookWorker extends Worker<DeliveryJobData, void, string> {
  #wake: (() => void) | undefined;

  constructor(...args: ConstructorParameters<typeof Worker<DeliveryJobData, void, string>>) {
    super(...args);
    this.on('closing', () => this.#wake?.());
  }

  protected override async moveToActive(token: string, name?: string): Promise<DeliveryJob> {
    try {
      return await super.moveToActive(token, name);
    } catch (error) {
      if (!bullmqWaitsAfter(error) && this.closing === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.runRetryDelay ?? 2_000);
          this.#wake = () => (clearTimeout(timer), resolve());
        });
      }
      throw error;
    }
  }
}

/** The errors after which BullMQ itself waits `runRetryDelay` before fetching again (its own test of a lost connection). */
function bullmqWaitsAfter(error: unknown): boolean {
  const { message = '', code, name } = error as { message?: string; code?: unknown; name?: string };
  return name === 'ConnectionClosedError' || message === 'Connection is closed.' || message.includes('ECONNREFUSED') || code === 'ECONNREFUSED';
}

