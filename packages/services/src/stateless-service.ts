import type { Message } from '@bufbuild/protobuf';
import type { ModelCodec, TypeRegistry } from '@layer8/model';
import { Action, ContentType, l8error } from '@layer8/protocol';
import type { SecurityProvider } from '@layer8/security';
import { type HandlerContext, type Incoming, type Payload, typed } from '@layer8/vnic';
import { authorize } from './authorize.ts';
import type { ActionName, ServiceLevelAgreement } from './sla.ts';

const NAMES: Partial<Record<number, ActionName>> = {
  [Action.POST]: 'post',
  [Action.PUT]: 'put',
  [Action.PATCH]: 'patch',
  [Action.DELETE]: 'delete',
  [Action.GET]: 'get',
};

/**
 * A service without state of its own: each action runs the SLA's handler for it, after authorization;
 * a model reply goes back as protobuf, anything else as JSON.
 */
export class StatelessInstance {
  readonly sla: ServiceLevelAgreement;
  readonly #provider: SecurityProvider | undefined;
  readonly #codec: ModelCodec;

  constructor(sla: ServiceLevelAgreement, registry: TypeRegistry, provider: SecurityProvider | undefined) {
    this.sla = sla;
    this.#provider = provider;
    this.#codec = registry.get(sla.type.typeName).codec;
  }

  /** Runs the handler of the request's action. @throws L8_ERR_UNSUPPORTED when the SLA has none */
  async handle(m: Incoming, ctx: HandlerContext): Promise<Payload> {
    const name = NAMES[ctx.action];
    const handler = name === undefined ? undefined : this.sla.handlers?.[name];
    if (handler === undefined)
      throw l8error('L8_ERR_UNSUPPORTED', `${this.sla.name} has no handler for action ${ctx.action}`);
    await authorize(this.#provider, this.sla, ctx);
    const input = m.contentType === ContentType.PROTOBUF ? m.decode(this.#codec) : m.json<string | undefined>();
    const out = await handler(input as never, ctx);
    return isModel(out, this.sla.type.typeName) ? typed(this.#codec, out as Message) : (out as Payload);
  }
}

function isModel(v: unknown, typeName: string): boolean {
  return typeof v === 'object' && v !== null && (v as { $typeName?: string }).$typeName === typeName;
}
