/**
 * Codec benchmark (docs/models.md): encode+decode of a 20-field nested model with the registry's codec (`layer8`:
 * the compiled codec over @bufbuild/protobuf messages), raw @bufbuild/protobuf `toBinary`/`fromBinary`,
 * protobufjs, JSON and msgpackr records; a deep copy of the same model (`deepClone`, compiled per type, against
 * @bufbuild/protobuf's reflective `clone`); then a one-field change on a 50-field model, diffed and encoded as a
 * change set (its size, and how many per second against the goal of 250 k/s).
 *   npm run bench -- codec [ms-per-case]
 */

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clone, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import {
  CustomerSchema,
  demoCustomer,
  demoWide50,
  file_layer8_demo_v1_bench,
  file_layer8_demo_v1_demo,
  Wide50Schema,
} from '@layer8/fixtures';
import { deepClone, encodeChangeSet, makeChangeSet, TypeRegistry } from '@layer8/model';
import { ContentType } from '@layer8/protocol';
import { Packr } from 'msgpackr';
import protobuf from 'protobufjs';
import { EXT } from './lib/ext.ts';
import { type BenchRow, peakRssMB, round, say, timeLoop } from './lib/harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const PROTO = join(here, EXT === '.ts' ? '..' : '../..', 'packages/fixtures/proto/layer8/demo/v1/bench.proto');

interface Codec {
  readonly system: string;
  /** Encodes then decodes once; returns the encoded size in bytes. */
  roundTrip(): number;
}

function codecs(): Codec[] {
  const registry = new TypeRegistry().register(file_layer8_demo_v1_bench, file_layer8_demo_v1_demo);
  const customer = demoCustomer(1);
  const layer8 = registry.get('layer8.demo.v1.Customer').codec;
  say(`layer8 codec: ${layer8.description}`);
  const plain = toJson(CustomerSchema, customer) as Record<string, unknown>;
  const packr = new Packr({ useRecords: true });
  const pbjsType = protobuf.loadSync(PROTO).lookupType('layer8.demo.v1.Customer');
  const pbjsMessage = pbjsType.fromObject(plain);
  return [
    {
      system: 'layer8',
      roundTrip: () => bytesOf(layer8.encode(customer, ContentType.PROTOBUF), (b) => layer8.decode(b)),
    },
    {
      system: 'bufbuild',
      roundTrip: () => bytesOf(toBinary(CustomerSchema, customer), (b) => fromBinary(CustomerSchema, b)),
    },
    {
      system: 'protobufjs',
      roundTrip: () => bytesOf(pbjsType.encode(pbjsMessage).finish(), (b) => pbjsType.decode(b)),
    },
    { system: 'json', roundTrip: () => bytesOf(Buffer.from(JSON.stringify(plain)), (b) => JSON.parse(b.toString())) },
    { system: 'msgpackr', roundTrip: () => bytesOf(packr.pack(plain), (b) => packr.unpack(b)) },
  ];
}

function bytesOf(encoded: Uint8Array, decode: (b: Buffer) => unknown): number {
  decode(encoded as Buffer);
  return encoded.length;
}

function measure(system: string, ms: number, op: () => number): BenchRow {
  const bytes = op();
  for (let i = 0; i < 2000; i++) op();
  const { ops, wallMs, cpu } = timeLoop(ms, 200, op);
  const rate = Math.round((ops / wallMs) * 1000);
  say(`codec-roundtrip ${system.padEnd(10)} ${(rate / 1000).toFixed(0).padStart(5)} k/s  ${bytes} B`);
  return { system, case: 'codec-roundtrip', rate, bytes, cpuUsPerOp: round(cpu / ops, 2), rssMB: peakRssMB() };
}

/** Deep copies of the 20-field model: the compiled `deepClone` and bufbuild's reflective `clone`. */
function cloneRows(ms: number): BenchRow[] {
  const customer = demoCustomer(1);
  const copies: [string, () => unknown][] = [
    ['layer8', () => deepClone(CustomerSchema, customer)],
    ['bufbuild', () => clone(CustomerSchema, customer)],
  ];
  return copies.map(([system, copy]) => {
    for (let i = 0; i < 2000; i++) copy();
    const { ops, wallMs, cpu } = timeLoop(ms, 200, copy);
    const rate = Math.round((ops / wallMs) * 1000);
    say(`clone ${system.padEnd(10)} ${(rate / 1000).toFixed(0).padStart(5)} k/s`);
    return { system, case: 'clone', rate, cpuUsPerOp: round(cpu / ops, 2), rssMB: peakRssMB() };
  });
}

/** The goal of delta-1-of-50: diff + encode per second. */
const DELTA_TARGET = 250_000;

function deltaRow(ms: number): BenchRow {
  const registry = new TypeRegistry().register(file_layer8_demo_v1_demo);
  const before = { entity: demoWide50(42), version: 41 };
  const after = clone(Wide50Schema, before.entity);
  after.score = 88;
  const op = () => encodeChangeSet(registry, makeChangeSet(Wide50Schema, before, after)).length;
  const bytes = op();
  const fullBytes = toBinary(Wide50Schema, before.entity).length;
  const { ops, wallMs, cpu } = timeLoop(ms, 100, op);
  const rate = Math.round((ops / wallMs) * 1000);
  say(
    `delta-1-of-50 layer8 ${bytes} B of ${fullBytes} B (${((100 * bytes) / fullBytes).toFixed(1)} %), diff+encode ${rate} /s`,
  );
  const row = { system: 'layer8', case: 'delta-1-of-50', rate, bytes, fullBytes, ratio: round(bytes / fullBytes, 3) };
  const goal = { target: DELTA_TARGET, targetMet: rate >= DELTA_TARGET };
  return { ...row, ...goal, cpuUsPerOp: round(cpu / ops, 2), rssMB: peakRssMB() };
}

/** Runs every case for `ms` milliseconds (default 1500). */
export default async function codec(args: string[]): Promise<BenchRow[]> {
  const ms = Number(args[0] ?? 1500);
  const rows = codecs().map((c) => measure(c.system, ms, c.roundTrip));
  rows.push(...cloneRows(ms), deltaRow(ms));
  return rows;
}
