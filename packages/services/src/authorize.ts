import { l8error } from '@layer8/protocol';
import type { SecurityProvider, UserIdentity } from '@layer8/security';
import type { ServiceLevelAgreement } from './sla.ts';

/**
 * A member acting for itself (a request that carries no identity): role `member`, and results unscoped.
 * Recognised by reference, so a token whose subject is empty is scoped like any other user.
 */
export const MEMBER: UserIdentity = Object.freeze({ user: '', roles: Object.freeze(['member']) });

/** What a request is authorized for: its action and the identity it carries (a token, or '' for the member itself). */
export interface Asked {
  readonly action: number;
  readonly identity: string;
}

/**
 * Authorizes a request for (service, action, the identity carried in the frame) before anything runs.
 * An empty identity is a member acting for itself, with the role `member`. Without a provider, every
 * request is allowed (undefined is returned: nothing to scope by).
 * @throws L8_ERR_FORBIDDEN, and the provider's token errors (L8_ERR_AUTH, L8_ERR_TOKEN_EXPIRED)
 */
export async function authorize(
  provider: SecurityProvider | undefined,
  sla: ServiceLevelAgreement,
  ctx: Asked,
): Promise<UserIdentity | undefined> {
  if (provider === undefined) return undefined;
  const who: UserIdentity = ctx.identity === '' ? MEMBER : await provider.validateToken(ctx.identity);
  if (!provider.canDoAction(who, ctx.action, sla.name, sla.area ?? 0)) {
    throw l8error('L8_ERR_FORBIDDEN', `${who.user || 'this member'} may not do action ${ctx.action} on ${sla.name}`);
  }
  return who;
}

/**
 * What `who` may see of a service's items (the provider's scope rules), as a filter; undefined when it
 * sees everything: no provider, or a member acting for itself.
 */
export function visibility<T>(
  provider: SecurityProvider | undefined,
  sla: ServiceLevelAgreement,
  who: UserIdentity | undefined,
): ((items: T[]) => T[]) | undefined {
  if (provider === undefined || who === undefined || who === MEMBER) return undefined;
  return (items) => provider.scope(who, sla.name, items);
}
