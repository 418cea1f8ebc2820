import {
  create,
  createFileRegistry,
  type DescFile,
  type DescMessage,
  type FileRegistry,
  fromBinary,
  toBinary,
} from '@bufbuild/protobuf';
import { type FileDescriptorProto, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { keysOf } from '@layer8/model';
import { Action, l8error } from '@layer8/protocol';
import type { Subscription, VNic } from '@layer8/vnic';
import type { ActionName, ServiceLevelAgreement } from './sla.ts';

/**
 * The service every service manager with a web-exposed service answers on (area 0, action GET): the
 * descriptors of what it runs, for a gateway to publish. A gateway learns from health which nodes host
 * it and asks each; the answer is small and changes only when a service is (de)activated.
 */
export const WEB_SERVICE = 'l8.web';

/** Default largest `limit` a query through the gateway may ask for. */
export const DEFAULT_MAX_LIMIT = 1000;

/** What a gateway needs to publish one service: its exposure and its model, self-described. */
export interface WebDescriptor {
  readonly name: string;
  readonly area: number;
  /** Full name of the model type, e.g. `layer8.demo.v1.Order`. */
  readonly type: string;
  readonly actions: readonly ActionName[];
  readonly maxLimit: number;
  readonly stateful: boolean;
  /** Fields of the primary key (empty for a stateless service). */
  readonly primaryKey: readonly string[];
  /**
   * The model's `.proto` file and its imports as a base64 `google.protobuf.FileDescriptorSet`, so a
   * gateway needs no generated code for the services it publishes.
   */
  readonly files: string;
}

/** The answer of {@link WEB_SERVICE}: the node's web-exposed services. */
export interface WebAnswer {
  readonly services: readonly WebDescriptor[];
}

/** The descriptor of a running service with web exposure (undefined without one). */
export function webDescriptor(sla: ServiceLevelAgreement, stateful: boolean): WebDescriptor | undefined {
  if (sla.web === undefined) return undefined;
  return {
    name: sla.name,
    area: sla.area ?? 0,
    type: sla.type.typeName,
    actions: [...sla.web.actions],
    maxLimit: sla.web.maxLimit ?? DEFAULT_MAX_LIMIT,
    stateful,
    primaryKey: stateful ? [...keysOf(sla.type).primary] : [],
    files: Buffer.from(fileSetOf(sla.type)).toString('base64'),
  };
}

/** The `FileDescriptorSet` of `desc`'s file and every file it imports, imports first. */
export function fileSetOf(desc: DescMessage): Uint8Array {
  const seen = new Map<string, FileDescriptorProto>();
  const visit = (f: DescFile): void => {
    if (seen.has(f.name)) return;
    for (const d of f.dependencies) visit(d);
    seen.set(f.name, f.proto);
  };
  visit(desc.file);
  return toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [...seen.values()] }));
}

/**
 * The model of a descriptor, rebuilt from its file set.
 * @throws L8_ERR_UNKNOWN_TYPE when the set does not define `d.type`; L8_ERR_DECODE for a malformed set
 */
export function modelOf(d: WebDescriptor): { readonly desc: DescMessage; readonly files: FileRegistry } {
  let files: FileRegistry;
  try {
    files = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(d.files, 'base64')));
  } catch (err) {
    throw l8error('L8_ERR_DECODE', `the descriptor of ${d.name} carries no valid file set`, { cause: err });
  }
  const desc = files.getMessage(d.type);
  if (desc === undefined) throw l8error('L8_ERR_UNKNOWN_TYPE', `the descriptor of ${d.name} lacks ${d.type}`);
  return { desc, files };
}

/**
 * Answers {@link WEB_SERVICE} for a service manager while it runs at least one web-exposed service, and
 * only then (a node without one does not show up as a host of it in health).
 *
 * Invariant: `#sub` is defined exactly while `list()` is non-empty (after each {@link update}).
 */
export class WebPublisher {
  readonly #vnic: VNic;
  readonly #list: () => WebDescriptor[];
  #sub: Subscription | undefined;

  constructor(vnic: VNic, list: () => WebDescriptor[]) {
    this.#vnic = vnic;
    this.#list = list;
  }

  /** Subscribes or unsubscribes after a service was activated or deactivated. */
  update(): void {
    const any = this.#list().length > 0;
    if (any && this.#sub === undefined) {
      this.#sub = this.#vnic.subscribe({ service: WEB_SERVICE, area: 0 }, (_m, ctx) => {
        if (ctx.action !== Action.GET) throw l8error('L8_ERR_UNSUPPORTED', `${WEB_SERVICE} answers GET only`);
        return { services: this.#list() } satisfies WebAnswer;
      });
    } else if (!any && this.#sub !== undefined) {
      this.#sub.close();
      this.#sub = undefined;
    }
  }
}
