import { existsSync, readFileSync } from 'node:fs';
import { l8error } from '@layer8/protocol';
import { writeSecretFile } from '@layer8/security';

/**
 * One JSON state file of the gateway's AAA (`refresh-tokens.json`, `totp.json` in the security directory):
 * read fresh at every change, written atomically with mode 0600. Changes made through one instance run
 * one at a time (a queue), each a synchronous read-change-write, so two requests of one gateway never
 * lose each other's change. Gateways in several processes on one directory share the file, but two
 * changes at the same instant may lose one (docs/gateway.md, "Shared state").
 */
export class StateFile<T> {
  readonly #path: string;
  readonly #empty: () => T;
  #queue: Promise<unknown> = Promise.resolve();

  /** The file at `path`; `empty` is its contents while it does not exist. */
  constructor(path: string, empty: () => T) {
    this.#path = path;
    this.#empty = empty;
  }

  /** The contents now. @throws L8_ERR_INVALID_ARGUMENT when the file is not a JSON object */
  read(): T {
    if (!existsSync(this.#path)) return this.#empty();
    let body: unknown;
    try {
      body = JSON.parse(readFileSync(this.#path, 'utf8'));
    } catch (err) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `state file ${this.#path} is not valid JSON`, { cause: err });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `state file ${this.#path} is not a JSON object`);
    }
    return { ...this.#empty(), ...body };
  }

  /**
   * Applies `change` to the contents and writes the result, after every earlier change of this instance.
   * `change` mutates the object it gets and returns what the caller should see; when it throws, nothing is
   * written and the error rejects the returned promise.
   */
  update<R>(change: (state: T) => R): Promise<R> {
    const run = this.#queue.then(() => {
      const state = this.read();
      const result = change(state);
      writeSecretFile(this.#path, `${JSON.stringify(state)}\n`);
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
