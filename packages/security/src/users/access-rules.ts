import { existsSync, readFileSync } from 'node:fs';
import { Action, l8error } from '@layer8/protocol';
import type { PeerIdentity, UserIdentity } from '../provider.ts';

/** One access rule: members of `role` may do `actions` (names such as `GET`, codes, or `*`) on `service`. */
export interface AccessRule {
  readonly role: string;
  /** A service name, or `*` for all. */
  readonly service: string;
  readonly actions: readonly (string | number)[];
  /** Restricts the rule to one area; every area when absent. */
  readonly area?: number;
}

/**
 * A scope rule: of a service's results, a non-admin user sees only items whose `field` equals their name.
 * `field` is the property (`customerId`) or the `.proto` field name (`customer_id`) of a model.
 */
export interface ScopeRule {
  readonly service: string;
  readonly field: string;
}

/**
 * A hosting rule: `service` (or `*`, every service), in `area` when given, may be hosted only by nodes whose
 * certificate common name matches one of `names` (`*` matches any run of characters, e.g. `pay-*`).
 */
export interface HostingRule {
  readonly service: string;
  readonly names: readonly string[];
  readonly area?: number;
}

/** The contents of `acl.json`. */
export interface AccessFile {
  readonly rules?: readonly AccessRule[];
  readonly scopes?: readonly ScopeRule[];
  readonly hosting?: readonly HostingRule[];
}

/** The role that may do everything and sees everything. */
export const ADMIN_ROLE = 'admin';

/**
 * Role-based authorisation and result scoping from an optional ACL file. The role `admin` may do
 * anything. Without an ACL file every authenticated member may do anything (the overlay trusts its
 * members, as the original's default provider did); with one, an action is allowed only when a rule
 * grants it to one of the user's roles. Scoping passes results through unless a scope rule names the
 * service.
 */
export class AccessRules {
  readonly #rules: readonly AccessRule[] | undefined;
  readonly #scopes: ReadonlyMap<string, string>;
  readonly #hosting: readonly { readonly rule: HostingRule; readonly names: readonly RegExp[] }[];

  /** Rules from `file` (`undefined`: no file, allow all). @throws L8_ERR_INVALID_ARGUMENT for a bad hosting rule */
  constructor(file: AccessFile | undefined) {
    this.#rules = file?.rules;
    this.#scopes = new Map((file?.scopes ?? []).map((s) => [s.service, s.field]));
    this.#hosting = hostingRules(file?.hosting).map((rule) => ({ rule, names: rule.names.map(globPattern) }));
  }

  /** Reads an ACL file; a missing file (or no path) allows everything. @throws L8_ERR_INVALID_ARGUMENT */
  static load(path: string | undefined): AccessRules {
    if (path === undefined || !existsSync(path)) return new AccessRules(undefined);
    try {
      return new AccessRules(JSON.parse(readFileSync(path, 'utf8')) as AccessFile);
    } catch (err) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `ACL file ${path} is not valid JSON`, { cause: err });
    }
  }

  /** Whether `who` may do `action` (an {@link Action} code) on (service, area). */
  allows(who: UserIdentity, action: number, service: string, area: number): boolean {
    if (who.roles.includes(ADMIN_ROLE)) return true;
    if (this.#rules === undefined) return true;
    return this.#rules.some(
      (r) =>
        who.roles.includes(r.role) && matchService(r, service) && (r.area ?? area) === area && matchAction(r, action),
    );
  }

  /**
   * Whether the node proven as `peer` may host (service, area): never for a VNet certificate; otherwise
   * yes unless a hosting rule covers the service (and area), and then only when one of its name patterns
   * matches the certificate's common name.
   */
  canHost(peer: PeerIdentity, service: string, area: number): boolean {
    if (peer.role === 'vnet') return false;
    const covering = this.#hosting.filter(({ rule }) => matchService(rule, service) && (rule.area ?? area) === area);
    return covering.length === 0 || covering.some(({ names }) => names.some((re) => re.test(peer.subject)));
  }

  /** The items of a `service` result that `who` may see: a subset of the same objects, in order. */
  scope<T>(who: UserIdentity, service: string, items: readonly T[]): T[] {
    const field = this.#scopes.get(service);
    if (field === undefined || who.roles.includes(ADMIN_ROLE)) return [...items];
    const local = field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    return items.filter((item) => {
      if (typeof item !== 'object' || item === null) return false;
      const r = item as Record<string, unknown>;
      return (field in r ? r[field] : r[local]) === who.user;
    });
  }
}

function matchService(rule: { readonly service: string }, service: string): boolean {
  return rule.service === '*' || rule.service === service;
}

function matchAction(rule: AccessRule, action: number): boolean {
  return rule.actions.some(
    (a) => a === '*' || a === action || (typeof a === 'string' && Action[a as keyof typeof Action] === action),
  );
}

/** Checks the `hosting` list of an ACL file: a malformed rule must fail loudly, never open a service. */
function hostingRules(list: unknown): HostingRule[] {
  if (list === undefined) return [];
  const bad = (why: string): never => {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `ACL hosting rules: ${why}`);
  };
  if (!Array.isArray(list)) return bad('hosting must be a list');
  return list.map((r: Partial<Record<keyof HostingRule, unknown>>) => {
    if (typeof r?.service !== 'string' || r.service === '') return bad('each rule needs a service');
    if (!Array.isArray(r.names) || !r.names.every((n) => typeof n === 'string')) {
      return bad(`the rule for ${r.service} needs a list of name patterns`);
    }
    if (r.area !== undefined && !Number.isInteger(r.area)) return bad(`the rule for ${r.service} has a bad area`);
    return r as HostingRule;
  });
}

/** A certificate name pattern: `*` matches any run of characters, everything else itself. */
function globPattern(glob: string): RegExp {
  const parts = glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}
