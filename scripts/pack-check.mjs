// Checks that the published packages work for a user: packs them (each builds on `prepack`), checks that
// every tarball holds what its `exports`, `bin` and source maps name, installs the tarballs into a fresh
// folder outside the workspace, generates a user's model that imports the model's options.proto with the
// buf set-up of docs/models.md, then runs a plain `node` ESM program and a strict `tsc` type-check against
// the installed packages. Third-party dependencies come from the npm registry. Exits 1 on any failure.
//
//   node scripts/pack-check.mjs          # after `npx tsc -b`; `.ci/run` runs it before `npm test`
//   node scripts/pack-check.mjs --keep   # keeps the temporary folder and prints its path
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'node_modules/.bin');
/** The packages a user installs, dependencies first (cli needs vnet and gateway). */
const PACKAGES = [
  'protocol',
  'link',
  'security',
  'health',
  'model',
  'store',
  'vnet',
  'vnic',
  'metrics',
  'services',
  'gateway',
  'chaos',
  'cli',
];

/** Runs a command; throws with its output when it fails. Returns stdout. */
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    const out = [r.error?.message, r.stdout, r.stderr].filter(Boolean).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed with status ${r.status}:\n${out}`);
  }
  return r.stdout;
}

function step(what, fn) {
  const start = performance.now();
  const result = fn();
  console.log(`pack-check: ${what} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  return result;
}

/** Packs every package from the workspace root (npm runs each `prepack` in its package folder). */
function pack(dest) {
  const args = ['pack', '--json', '--pack-destination', dest, ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])];
  const out = run('npm', args, ROOT);
  // a prepack may print before npm's JSON: the report is the array that starts a line
  return JSON.parse(out.slice(Math.max(0, out.search(/^\[/m))));
}

/** Every path an `exports` value names, whatever the condition. */
function exportTargets(value) {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

/** The files a manifest promises: export targets (a `*` pattern needs one match) and bins. */
function promisedFiles(manifest) {
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  return [...exportTargets(manifest.exports), ...bins].map((p) => posix.normalize(p));
}

function holds(files, path) {
  if (!path.includes('*')) return files.has(path);
  const [head, tail] = path.split('*');
  return [...files].some((f) => f.startsWith(head) && f.endsWith(tail));
}

/** The files of a packed package that its exports, bin or source maps name but the tarball lacks. */
function missingFiles(dir, packed) {
  const files = new Set(packed.files.map((f) => f.path));
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const missing = promisedFiles(manifest).filter((p) => !holds(files, p));
  for (const map of [...files].filter((f) => f.endsWith('.js.map'))) {
    const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8'));
    const named = sources.map((s) => posix.join(posix.dirname(map), s));
    missing.push(...named.filter((s) => !files.has(s)).map((s) => `${s} (source of ${map})`));
  }
  return missing;
}

function checkContents(packs) {
  const problems = packs.flatMap((p) => {
    const dir = join(ROOT, 'packages', PACKAGES.find((name) => `@layer8/${name}` === p.name) ?? '?');
    const missing = missingFiles(dir, p);
    if (p.files.length < 3) missing.push(`only ${p.files.length} files packed: was it built?`);
    return missing.map((m) => `${p.name}: ${m}`);
  });
  if (problems.length > 0) throw new Error(`tarballs lack files they name:\n${problems.join('\n')}`);
}

function install(app, tarballs) {
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'l8-pack-check', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', ...tarballs], app);
}

const ORDER_PROTO = `syntax = "proto3";
package shop.v1;
import "layer8/model/v1/options.proto";
message Order {
  option (layer8.model.v1.primary_key) = "id";
  option (layer8.model.v1.non_unique_key) = "customer_id";
  int64 id = 1;
  string customer_id = 2;
}
`;

/** A user's model: the buf.yaml and buf.gen.yaml of docs/models.md, with this repository's plugins. */
function generateModel(app) {
  mkdirSync(join(app, 'proto/shop/v1'), { recursive: true });
  writeFileSync(join(app, 'proto/shop/v1/order.proto'), ORDER_PROTO);
  const modules = ['proto', 'node_modules/@layer8/model/proto'];
  writeFileSync(join(app, 'buf.yaml'), `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m}\n`).join('')}`);
  const plugin = join(BIN, 'protoc-gen-es');
  const opts = ['target=js+dts', 'rewrite_imports=./layer8/model/**/*_pb.js:@layer8/model/gen'];
  const gen = `version: v2\ninputs:\n  - directory: proto\nplugins:\n  - local: ${plugin}\n    out: gen\n    opt:\n${opts.map((o) => `      - ${o}\n`).join('')}`;
  writeFileSync(join(app, 'buf.gen.yaml'), gen);
  run(join(BIN, 'buf'), ['generate'], app);
}

const RUNTIME_CHECK = `import assert from 'node:assert/strict';
import { buildProgram } from '@layer8/cli';
import { HealthTable } from '@layer8/health';
import { formatAddress, parseHello } from '@layer8/link';
import { TypeRegistry } from '@layer8/model';
import { decodeMessage, encodeMessage, Kind, newNodeId } from '@layer8/protocol';
import { DevProvider } from '@layer8/security';
import { VNet } from '@layer8/vnet';
import { VNic } from '@layer8/vnic';
import { newRegistry, registerVNetMetrics, serveMetrics } from '@layer8/metrics';
import { ServiceManager } from '@layer8/services';
import { Gateway } from '@layer8/gateway';
import { memoryStore } from '@layer8/store';
import { file_shop_v1_order, OrderSchema } from './gen/shop/v1/order_pb.js';

const frame = encodeMessage({ kind: Kind.NOTIFY, source: newNodeId(), service: 'orders', payload: new Uint8Array([1, 2]) });
const message = decodeMessage(frame.subarray(4));
assert.equal(message.service, 'orders');
assert.deepEqual([...message.payload], [1, 2]);
assert.equal(formatAddress({ host: '::1', port: 1 }), '[::1]:1');
assert.throws(() => parseHello({ t: 'hello' }), { code: 'L8_ERR_VERSION' });
assert.ok(new HealthTable());
const keys = new TypeRegistry().register(file_shop_v1_order).get('shop.v1.Order').keys;
assert.deepEqual(keys, { primary: ['id'], unique: [], nonUnique: [['customer_id']] });
const provider = new DevProvider({ passphrase: 'layer8-local-dev-only', warn: () => {} });
const vnet = new VNet({ provider, port: 0, socketPath: false });
await vnet.start();
const registry = newRegistry();
registerVNetMetrics(registry, vnet);
const metrics = await serveMetrics(registry, { port: 0 });
assert.ok((await (await fetch(metrics.url)).text()).includes('layer8_vnet_links{link_kind="local"} 0'));
await metrics.close();
await vnet.close();
const vnic = new VNic({ provider, vnet: '127.0.0.1:1' });
await vnic.close();
assert.equal(typeof buildProgram, 'function');
assert.equal(typeof ServiceManager, 'function');
const gateway = new Gateway({ vnic, port: 0 });
const { url } = await gateway.start();
assert.deepEqual(await (await fetch(\`\${url}/l8\`)).json(), { services: [] });
assert.equal((await (await fetch(\`\${url}/openapi.json\`)).json()).openapi, '3.1.0');
assert.equal((await fetch(\`\${url}/docs/assets/swagger-ui-bundle.js\`)).status, 200);
await gateway.close();
const store = memoryStore({ type: OrderSchema, registry: new TypeRegistry().register(file_shop_v1_order) });
await store.put({ key: '1', version: 1, item: { $typeName: 'shop.v1.Order', id: 1n, customerId: 'c1' } });
assert.equal((await store.get('1'))?.version, 1);
console.log('runtime ok');
`;

const TYPE_CHECK = `import type { LinkAddress, NodeHello } from '@layer8/link';
import { type ModelKeys, TypeRegistry } from '@layer8/model';
import { encodeMessage, Kind, type NodeId, newNodeId } from '@layer8/protocol';
import { DevProvider, type SecurityProvider } from '@layer8/security';
import { VNet, type VNetOptions } from '@layer8/vnet';
import { VNic, type VNicOptions } from '@layer8/vnic';
import { newRegistry, VNicMetrics } from '@layer8/metrics';
import { Gateway, type GatewayOptions } from '@layer8/gateway';
import { file_shop_v1_order, type Order } from './gen/shop/v1/order_pb.js';

const provider: SecurityProvider = new DevProvider({ passphrase: 'layer8-local-dev-only' });
const address: LinkAddress = { host: '127.0.0.1', port: 26000 };
const vnetOptions: VNetOptions = { provider, port: 0, socketPath: false, peers: [address] };
const vnicOptions: VNicOptions = { provider, vnet: address, observer: new VNicMetrics(newRegistry()) };
export const nodes: [VNet, VNic] = [new VNet(vnetOptions), new VNic(vnicOptions)];
const id: NodeId = newNodeId();
export const frame: Buffer = encodeMessage({ kind: Kind.NOTIFY, source: id, service: 'orders' });
export const hello: NodeHello['role'] = 'vnic';
export const keys: ModelKeys = new TypeRegistry().register(file_shop_v1_order).get('shop.v1.Order').keys;
export const order: Pick<Order, 'id' | 'customerId'> = { id: 1n, customerId: 'c1' };
const gatewayOptions: GatewayOptions = { vnic: nodes[1], port: 0, maxTimeoutMs: 5000 };
export const gateway: Gateway = new Gateway(gatewayOptions);
`;

function typeCheck(app) {
  const compilerOptions = {
    strict: true,
    noEmit: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2023',
    lib: ['es2023'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')],
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }, null, 2));
  writeFileSync(join(app, 'check.ts'), TYPE_CHECK);
  run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], app);
}

function main() {
  const keep = process.argv.includes('--keep');
  const tmp = mkdtempSync(join(tmpdir(), 'l8-pack-check-'));
  const start = performance.now();
  try {
    const packs = step(`packed ${PACKAGES.length} packages`, () => pack(tmp));
    step('tarballs hold what their manifests name', () => checkContents(packs));
    const app = join(tmp, 'app');
    step('installed the tarballs', () =>
      install(
        app,
        packs.map((p) => join(tmp, p.filename)),
      ),
    );
    if (!existsSync(join(BIN, 'buf'))) throw new Error(`no buf in ${BIN}: run npm install first`);
    step('generated a model importing options.proto', () => generateModel(app));
    writeFileSync(join(app, 'check.mjs'), RUNTIME_CHECK);
    step('node ESM program ran', () => run(process.execPath, ['check.mjs'], app));
    step('strict type-check passed', () => typeCheck(app));
    console.log(`pack-check: ok in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  } catch (err) {
    console.error(`pack-check: FAILED\n${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    if (keep) console.log(`pack-check: kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

main();
