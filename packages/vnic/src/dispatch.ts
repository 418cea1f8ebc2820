import {
  type ControlBody,
  encodeAnswer,
  frameServiceKey,
  Kind,
  type L8Error,
  Offset,
  serviceKey,
  toL8Error,
} from '@layer8/protocol';
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
  /** This node's id, 16 bytes. */
  readonly idBytes: Uint8Array;
  /** The current VNet's id, 16 bytes. */
  vnetIdBytes(): Uint8Array;
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

const key = serviceKey;

interface Entry {
  readonly service: string;
  readonly area: number;
  readonly bytes: Buffer;
  readonly handler: Handler;
}

/** The entry whose service name equals the frame's (compared byte by byte). */
function match(entries: readonly Entry[] | undefined, frame: Buffer): Entry | undefined {
  if (entries === undefined) return undefined;
  const len = frame[Offset.SERVICE_LEN] as number;
  outer: for (const e of entries) {
    if (e.bytes.length !== len) continue;
    for (let i = 0; i < len; i++) if (e.bytes[i] !== frame[Offset.SERVICE + i]) continue outer;
    return e;
  }
  return undefined;
}

/**
 * The receiving side of a VNic: (service, area) → handler, and the replies to requests.
 * Invariant: `#handlers` holds exactly the subscriptions the VNet was last told about.
 */
export class Dispatcher {
  readonly #host: DispatchHost;
  readonly #handlers = new Map<string, Entry>();
  /** Area → entries, for matching a frame's service bytes without building a string. */
  #byArea = new Map<number, Entry[]>();

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
    const entry: Entry = { service, area, handler, bytes: Buffer.from(service, 'utf8') };
    this.#handlers.set(k, entry);
    this.#reindex();
    this.#announce();
    return {
      service,
      area,
      close: () => {
        if (this.#handlers.get(k) !== entry) return;
        this.#handlers.delete(k);
        this.#reindex();
        this.#announce();
      },
    };
  }

  /** Runs the handler of an incoming REQUEST or NOTIFY frame; answers a request with a reply or fail. */
  deliver(frame: Buffer): void {
    const h = match(this.#byArea.get(frame.readUInt16BE(Offset.AREA)), frame);
    const isRequest = frame[Offset.KIND] === Kind.REQUEST;
    if (h === undefined) {
      if (isRequest)
        this.#fail(
          frame,
          toL8Error(new Error(`no handler for ${frameServiceKey(frame) ?? '?'} here`), 'L8_ERR_NO_SERVICE'),
        );
      return;
    }
    const ctx = isRequest ? this.#progressOf(frame) : NO_PROGRESS;
    let result: Payload | Promise<Payload>;
    try {
      result = h.handler(new Incoming(frame), ctx);
    } catch (err) {
      return isRequest ? this.#fail(frame, toL8Error(err)) : undefined;
    }
    if (!isRequest) {
      if (result instanceof Promise) result.catch(() => undefined);
      return;
    }
    if (result instanceof Promise)
      result.then(
        (r) => this.#reply(frame, r),
        (e: unknown) => this.#fail(frame, toL8Error(e)),
      );
    else this.#reply(frame, result);
  }

  #reindex(): void {
    const byArea = new Map<number, Entry[]>();
    for (const e of this.#handlers.values()) byArea.set(e.area, [...(byArea.get(e.area) ?? []), e]);
    this.#byArea = byArea;
  }

  #announce(): void {
    this.#host.control({ t: 'services', services: this.services() });
  }

  #progressOf(frame: Buffer): ReplyContext {
    return { progress: (p) => this.#answer(frame, Kind.PROGRESS, p, undefined) };
  }

  #reply(frame: Buffer, result: Payload): void {
    try {
      this.#answer(frame, Kind.REPLY, result, undefined);
    } catch (err) {
      this.#fail(frame, toL8Error(err, 'L8_ERR_HANDLER'));
    }
  }

  #fail(frame: Buffer, error: L8Error): void {
    try {
      this.#answer(frame, Kind.FAIL, undefined, error);
    } catch {
      // the link is gone or full: the requester's deadline or the node-down event completes it
    }
  }

  #answer(request: Buffer, kind: Kind, value: Payload, error: L8Error | undefined): void {
    const { payload, contentType } = encodePayload(value);
    const source = this.#host.idBytes;
    this.#host.send(
      encodeAnswer(request, {
        kind,
        source,
        origin: this.#host.vnetIdBytes(),
        contentType,
        payload,
        error: error?.toWire(),
      }),
    );
  }
}
