import { fromJson, type JsonValue, toJson } from '@bufbuild/protobuf';
import { decodeEnvelope, type Envelope, type TypeEntry, type TypeRegistry } from '@layer8/model';
import { Action, ContentType, l8error } from '@layer8/protocol';
import type { Incoming, Payload, RequestOptions, VNic } from '@layer8/vnic';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { loadRegistry, typeOfService } from '../model-types.ts';
import { table } from '../table.ts';
import { type JoinFlags, joinOptions, withVNic } from './inspect.ts';

/** The flags of `l8 call` and `l8 services`: joining, plus where the model types come from. */
export interface ModelFlags extends JoinFlags {
  readonly protoModule: string[];
  readonly type?: string;
}

const ACTIONS = { post: Action.POST, put: Action.PUT, patch: Action.PATCH, delete: Action.DELETE, get: Action.GET };
type ActionWord = keyof typeof ACTIONS;

/** Adds `--proto-module` and `--type`. */
export function modelOptions(cmd: Command): Command {
  return cmd
    .option(
      '--proto-module <module>',
      'module (package or path) exporting generated files or schemas to register (repeatable; the demo models are always tried)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--type <name>', 'model type of the service (default: the type named like the service, Orders → Order)');
}

/** `l8 call <service> <area> <action> [argument]`: one request to a service of @layer8/services. */
export function callCommand(program: Command, io: CliIo): void {
  modelOptions(
    joinOptions(
      program
        .command('call')
        .description('send one request (post, put, patch, delete, get) to a service and print its answer')
        .argument('<service>', 'service name')
        .argument('<area>', 'service area (0 by default in services)')
        .argument('<action>', 'post | put | patch | delete | get')
        .argument(
          '[argument]',
          'get: L8QL text or {"key":"1"}; post/put/patch: the entity as protobuf JSON; delete: {"key":"1"} or a key',
        ),
    ),
  ).action(async (service: string, area: string, action: string, arg: string | undefined, flags: ModelFlags) => {
    const word = checkedAction(action);
    const registry = await loadRegistry(flags.protoModule, process.cwd());
    const request = requestOf(word, arg, () => typeOfService(registry, service, flags.type));
    const env = await withVNic(flags, io, (vnic) =>
      callService(vnic, registry, { service, area: checkedArea(area) }, ACTIONS[word], request),
    );
    printEnvelope(io, registry, env, word === 'get' && request.payload !== undefined && 'q' in request.payload, flags);
  });
}

/** Sends `request` to (service, area) and reads the envelope it answers with. @throws the service's error */
export async function callService(
  vnic: VNic,
  registry: TypeRegistry,
  target: { service: string; area: number; node?: string },
  action: Action,
  request: { payload: Payload; codec?: RequestOptions['codec'] },
  timeoutMs = 10_000,
): Promise<Envelope> {
  const options: RequestOptions = { action, timeoutMs, ...(request.codec ? { codec: request.codec } : {}) };
  return envelopeOf(registry, await vnic.request(target as never, request.payload, options));
}

function envelopeOf(registry: TypeRegistry, m: Incoming): Envelope {
  if (m.contentType !== ContentType.PROTOBUF) {
    throw l8error('L8_ERR_DECODE', `the service answered with content type ${m.contentType}, not an envelope`);
  }
  return decodeEnvelope(registry, m.payload);
}

function checkedAction(action: string): ActionWord {
  const word = action.toLowerCase();
  if (!(word in ACTIONS)) throw l8error('L8_ERR_INVALID_ARGUMENT', `action ${action} is not post|put|patch|delete|get`);
  return word as ActionWord;
}

function checkedArea(area: string): number {
  const n = Number(area);
  if (!Number.isInteger(n) || n < 0) throw l8error('L8_ERR_INVALID_ARGUMENT', `area ${area} is not a number`);
  return n;
}

/** The payload of an action from its command-line argument. @throws L8_ERR_INVALID_ARGUMENT */
function requestOf(
  word: ActionWord,
  arg: string | undefined,
  type: () => TypeEntry,
): { payload: Payload & object; codec?: RequestOptions['codec'] } {
  if (arg === undefined || arg.trim() === '') {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `${word} needs an argument (see l8 call --help)`);
  }
  const text = arg.trim();
  if (word === 'get') return { payload: text.startsWith('{') ? parseJson(text) : { q: text } };
  if (word === 'delete') return { payload: text.startsWith('{') ? parseJson(text) : { key: text } };
  const entry = type();
  let item: unknown;
  try {
    item = fromJson(entry.desc, parseJson(text) as JsonValue);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'L8_ERR_INVALID_ARGUMENT') throw err;
    throw l8error('L8_ERR_INVALID_ARGUMENT', `not a ${entry.name} in protobuf JSON: ${(err as Error).message}`);
  }
  return { payload: item as Payload & object, codec: entry.codec as unknown as RequestOptions['codec'] };
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw l8error('L8_ERR_INVALID_ARGUMENT', `not a JSON object: ${text}`);
}

/** The items of an envelope as protobuf JSON, with their keys and versions. */
export function itemsJson(registry: TypeRegistry, env: Envelope) {
  return env.items.map((i) => ({
    key: i.key,
    version: i.version ?? 0,
    type: i.type,
    value: toJson(registry.get(i.type).desc, i.value as never, { alwaysEmitImplicit: false }) as Record<
      string,
      unknown
    >,
  }));
}

function printEnvelope(io: CliIo, registry: TypeRegistry, env: Envelope, query: boolean, flags: ModelFlags): void {
  const items = itemsJson(registry, env);
  if (flags.json) return io.out(JSON.stringify({ total: env.metadata.total, items }, null, 2));
  if (!query && items.length === 1) {
    const [only] = items as [(typeof items)[number]];
    io.out(`${only.type} ${only.key} (version ${only.version})`);
    for (const [k, v] of Object.entries(only.value)) io.out(`  ${k}: ${cell(v)}`);
    return;
  }
  if (items.length === 0) return io.out(query ? `no items (total ${env.metadata.total})` : 'done');
  const fields = [...new Set(items.flatMap((i) => Object.keys(i.value)))];
  const rows = items.map((i) => [i.key, String(i.version), ...fields.map((f) => cell(i.value[f]))]);
  io.out(table(['KEY', 'VERSION', ...fields.map((f) => f.toUpperCase())], rows));
  io.out(`${items.length} of ${env.metadata.total}`);
}

function cell(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
