import { existsSync, readFileSync } from 'node:fs';
import { Action, l8error } from '@layer8/protocol';
import type { UserIdentity } from '../provider.ts';

/** One access rule: members of `role` may do `actions` (names such as `GET`, codes, or `*`) on `service`. */
export interface AccessRule {
  readonly role: string;
  /** A service name, or `*` for all. */
  readonly service: string;
  readonly actions: readonly (string | number)[];
  /** Restricts the rule to one area; every area when absent. */
  readonly area?: number;
}

/** A scope rule: of a service's results, a non-admin user sees only items whose `field` equals their name. */
export interface ScopeRule {
  readonly service: string;
  readonly field: string;
}

/** The contents of `acl.json`. */
export interface AccessFile {
  readonly rules?: readonly AccessRule[];
  readonly scopes?: readonly ScopeRule[];
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

  /** Rules from `file` (`undefined`: no file, allow all). */
  constructor(file: AccessFile | undefined) {
    this.#rules = file?.rules;
    this.#scopes = new Map((file?.scopes ?? []).map((s) => [s.service, s.field]));
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

  /** The items of a `service` result that `who` may see. */
  scope<T>(who: UserIdentity, service: string, items: readonly T[]): T[] {
    const field = this.#scopes.get(service);
    if (field === undefined || who.roles.includes(ADMIN_ROLE)) return [...items];
    return items.filter(
      (item) => typeof item === 'object' && item !== null && (item as Record<string, unknown>)[field] === who.user,
    );
  }
}

function matchService(rule: AccessRule, service: string): boolean {
  return rule.service === '*' || rule.service === service;
}

function matchAction(rule: AccessRule, action: number): boolean {
  return rule.actions.some(
    (a) => a === '*' || a === action || (typeof a === 'string' && Action[a as keyof typeof Action] === action),
  );
}
