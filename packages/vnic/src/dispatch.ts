import { Action, type ControlBody, encodeMessage, Kind, type L8Error, type Message, toL8Error } from '@layer8/protocol';
import { encodePayload, Incoming, type Payload } from './payload.ts';

/** Lets a handler send intermediate replies before its final one. */
export interface ReplyContext {
  /** Sends a progress reply (does not complete the request). No-op for one-way messages. */
  progress(payload: Payload): void;
}

/** A service handler: returns the reply payload (or throws an error that becomes the caller's). */
export type Handler = (message: Incoming, ctx: ReplyContext) => Payload | Promise<Payload>;

/** What dispatch needs from the VNic. */
export interface DispatchHost {
  readonly id: string;
  vnetId(): string;
  send(frame: Buffer): void;
  control(body: ControlBody): void;
}

/** A registered handler; `close()` unsubscribes. */
export interface Subscription {
  readonly service: string;
  readonly area: number;
  close(): void;
}

const NO_PROGRESS: ReplyContext = { progress() {} };

function key(service: string, area: number): string {
  return `${area}/${service}`;
}

/**
 * The receiving side of a VNic: (service, area) → handler, and the replies to requests.
 * Invariant: `#handlers` holds exactly the subscriptions the VNet was last told about.
 */
export class Dispatcher {
  readonly #host: DispatchHost;
  readonly #handlers = new Map<string, { service: string; area: number; handler: Handler }>();

  constructor(host: DispatchHost) {
    this.#host = host;
  }

  /** The (service, area) pairs subscribed. */
  services(): { service: string; area: number }[] {
    return [...this.#handlers.values()].map(({ service, area }) => ({ service, area }));
  }

  /** The handler of (service, area) in this process, if any. */
  handlerOf(service: string, area: number): Handler | undefined {
    return this.#handlers.get(key(service, area))?.handler;
  }

  /** Registers `handler` for (service, area), replacing an earlier one, and tells the VNet. */
  subscribe(service: string, area: number, handler: Handler): Subscription {
    const k = key(service, area);
    const entry = { service, area, handler };
    this.#handlers.set(k, entry);
    this.#announce();
    return {
      service,
      area,
      close: () => {
        if (this.#handlers.get(k) !== entry) return;
        this.#handlers.delete(k);
        this.#announce();
      },
    };
  }

  /** Runs the handler of an incoming REQUEST or NOTIFY; answers a request with a reply or fail. */
  deliver(m: Message): void {
    const h = this.#handlers.get(key(m.service, m.area));
    const isRequest = m.kind === Kind.REQUEST;
    if (h === undefined) {
      if (isRequest)
        this.#fail(m, toL8Error(new Error(`no handler for ${m.service}/${m.area} here`), 'L8_ERR_NO_SERVICE'));
      return;
    }
    const ctx = isRequest ? this.#progressOf(m) : NO_PROGRESS;
    let result: Payload | Promise<Payload>;
    try {
      result = h.handler(new Incoming(m), ctx);
    } catch (err) {
      return isRequest ? this.#fail(m, toL8Error(err)) : undefined;
    }
    if (!isRequest) return void Promise.resolve(result).catch(() => undefined);
    if (result instanceof Promise)
      result.then(
        (r) => this.#reply(m, r),
        (e: unknown) => this.#fail(m, toL8Error(e)),
      );
    else this.#reply(m, result);
  }

  #announce(): void {
    this.#host.control({ t: 'services', services: this.services() });
  }

  #progressOf(m: Message): ReplyContext {
    return { progress: (p) => this.#answer(m, Kind.PROGRESS, p, undefined) };
  }

  #reply(m: Message, result: Payload): void {
    try {
      this.#answer(m, Kind.REPLY, result, undefined);
    } catch (err) {
      this.#fail(m, toL8Error(err, 'L8_ERR_HANDLER'));
    }
  }

  #fail(m: Message, error: L8Error): void {
    try {
      this.#answer(m, Kind.FAIL, undefined, error);
    } catch {
      // the link is gone or full: the requester's deadline or the node-down event completes it
    }
  }

  #answer(m: Message, kind: Kind, value: Payload, error: L8Error | undefined): void {
    const { payload, contentType } = encodePayload(value);
    this.#host.send(
      encodeMessage({
        kind,
        source: this.#host.id,
        origin: this.#host.vnetId(),
        destination: m.source,
        service: m.service,
        area: m.area,
        sequence: m.sequence,
        action: Action.NONE,
        contentType,
        payload,
        error: error?.toWire(),
      }),
    );
  }
}
