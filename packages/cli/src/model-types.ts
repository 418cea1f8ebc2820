import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DescFile, DescMessage } from '@bufbuild/protobuf';
import { type TypeEntry, TypeRegistry } from '@layer8/model';
import { l8error } from '@layer8/protocol';

/**
 * The module whose generated files the CLI registers when no `--proto-module` is given: the demo models
 * of the repository (private, so absent from an installed CLI; then only `--proto-module` types are known).
 */
export const DEMO_MODELS = '@layer8/fixtures';

/**
 * A registry of every generated file (`file_…`) and message schema (`…Schema`) exported by `modules`
 * (package names, or paths from `cwd`), plus the demo models when they can be loaded.
 * @throws L8_ERR_INVALID_ARGUMENT when a named module cannot be loaded or exports no model
 */
export async function loadRegistry(modules: readonly string[], cwd: string): Promise<TypeRegistry> {
  const registry = new TypeRegistry();
  const demo = await importModule(DEMO_MODELS).catch(() => undefined);
  if (demo !== undefined) registry.register(...descriptorsOf(demo));
  for (const m of modules) {
    const spec = m.startsWith('.') || isAbsolute(m) ? pathToFileURL(resolve(cwd, m)).href : m;
    const loaded = await importModule(spec).catch((err: unknown) => {
      throw l8error('L8_ERR_INVALID_ARGUMENT', `cannot load the proto module ${m}`, { cause: err });
    });
    const descs = descriptorsOf(loaded);
    if (descs.length === 0) throw l8error('L8_ERR_INVALID_ARGUMENT', `${m} exports no generated file or schema`);
    registry.register(...descs);
  }
  return registry;
}

// a variable specifier: the CLI does not depend on the modules it may load
function importModule(spec: string): Promise<Record<string, unknown>> {
  return import(spec) as Promise<Record<string, unknown>>;
}

function descriptorsOf(mod: Record<string, unknown>): (DescFile | DescMessage)[] {
  return Object.values(mod).filter((v): v is DescFile | DescMessage => {
    const kind = (v as { kind?: unknown } | null)?.kind;
    return typeof v === 'object' && (kind === 'file' || kind === 'message');
  });
}

/**
 * The model type of a service: `type` when given, else the registered type named like the service or like
 * it without a final "s" (`Orders` → `Order`).
 * @throws L8_ERR_UNKNOWN_TYPE when none is registered
 */
export function typeOfService(registry: TypeRegistry, service: string, type?: string): TypeEntry {
  if (type !== undefined) return registry.get(type);
  const entry = registry.find(service) ?? (service.endsWith('s') ? registry.find(service.slice(0, -1)) : undefined);
  if (entry !== undefined) return entry;
  throw l8error(
    'L8_ERR_UNKNOWN_TYPE',
    `no registered model type is named like the service ${service}: give --type NAME (and --proto-module MODULE)`,
  );
}
