import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { controlBody, DEFAULT_MAX_FRAME, decodeMessage, FIXED_HEADER_SIZE, Kind, Offset } from '@layer8/protocol';
import fc from 'fast-check';
import { HANDSHAKE_OPS, mutatedHandshake } from '../src/fuzz/handshake-frames.ts';
import { JSON_OPS } from '../src/fuzz/json-mutations.ts';
import { dataFrame } from '../src/fuzz/templates.ts';
import {
  FIELD_NAMES,
  FrameMutator,
  type FuzzContext,
  FuzzRandom,
  layoutOf,
  MUTATIONS,
  type Pose,
} from '../src/index.ts';

/** A context of fixed ids, so that frames depend on the seed alone. */
function contextOf(pose: Pose): FuzzContext {
  const r = new FuzzRandom(1);
  return {
    self: r.nodeId(),
    pose,
    target: r.nodeId(),
    nodes: [r.nodeId(), r.nodeId()],
    services: [{ service: 'chaos.echo', area: 0 }],
  };
}

const seeds = fc.integer({ min: 0, max: 0xffff_ffff });
const poses = fc.constantFrom<Pose>('vnic', 'peer', 'vnet');

function mutator(seed: number, pose: Pose, endRate = 1 / 128): FrameMutator {
  return new FrameMutator({
    seed,
    ctx: contextOf(pose),
    maxFrame: DEFAULT_MAX_FRAME,
    endRate,
    badControlCuts: pose !== 'vnet',
  });
}

function frames(m: FrameMutator, n: number): ReturnType<FrameMutator['next']>[] {
  return Array.from({ length: n }, () => m.next());
}

describe('the frame mutator', () => {
  test('the same seed replays the same frames byte for byte; another seed makes others', () => {
    fc.assert(
      fc.property(seeds, poses, (seed, pose) => {
        const [a, b] = [frames(mutator(seed, pose), 300), frames(mutator(seed, pose), 300)];
        assert.deepEqual(
          a.map((f) => [f.mutation, f.field, f.op, f.ends]),
          b.map((f) => [f.mutation, f.field, f.op, f.ends]),
        );
        assert.ok(Buffer.concat(a.map((f) => f.bytes)).equals(Buffer.concat(b.map((f) => f.bytes))));
        const other = frames(mutator((seed + 1) >>> 0, pose), 300);
        assert.ok(!Buffer.concat(other.map((f) => f.bytes)).equals(Buffer.concat(a.map((f) => f.bytes))));
      }),
      { numRuns: 20 },
    );
  });

  test('every field of the layout, every kind of mutation and every control message of the pose is reached', () => {
    const types: Record<Pose, string[]> = {
      vnic: ['hb', 'resync', 'bye', 'services', 'stats'],
      peer: ['hb', 'resync', 'health', 'close'],
      vnet: ['hb', 'health', 'drop', 'close'],
    };
    fc.assert(
      fc.property(seeds, poses, (seed, pose) => {
        const m = mutator(seed, pose, 0.1);
        frames(m, 4000);
        const missing = [
          ...FIELD_NAMES.map((f) => `field.${f}`),
          ...MUTATIONS,
          ...types[pose].map((t) => `control.${t}`),
        ].filter((k) => (m.coverage.get(k) ?? 0) === 0);
        assert.deepEqual(missing, [], `seed ${seed}, pose ${pose}`);
      }),
      { numRuns: 12 },
    );
  });

  test('a batch ends at its first frame that ends the link, and only there', () => {
    fc.assert(
      fc.property(seeds, poses, fc.integer({ min: 1, max: 300 }), (seed, pose, max) => {
        const m = mutator(seed, pose, 0.05);
        for (let i = 0; i < 20; i++) {
          const batch = m.batch(max);
          assert.ok(batch.length >= 1 && batch.length <= max);
          assert.ok(batch.slice(0, -1).every((f) => f.ends === undefined));
          assert.ok(batch.length === max || batch.at(-1)?.ends !== undefined);
        }
      }),
      { numRuns: 30 },
    );
  });

  test('toward a VNet, a frame not marked as ending the link is never a control frame it would refuse', () => {
    fc.assert(
      fc.property(seeds, fc.constantFrom<Pose>('vnic', 'peer'), (seed, pose) => {
        for (const f of frames(mutator(seed, pose, 0.05), 1500)) {
          if (f.ends !== undefined || f.mutation === 'stream' || f.bytes[4 + Offset.KIND] !== Kind.CONTROL) continue;
          assert.equal(f.bytes.readUInt32BE(0), f.bytes.length - 4, `${f.mutation}/${f.op}: a whole frame`);
          assert.equal(typeof controlBody(decodeMessage(f.bytes.subarray(4))).t, 'string', `${f.mutation}/${f.op}`);
        }
      }),
      { numRuns: 20 },
    );
  });

  test('length prefixes: short ones are under the fixed header, long ones over the maximum, and both end the link', () => {
    fc.assert(
      fc.property(seeds, poses, (seed, pose) => {
        for (const f of frames(mutator(seed, pose, 0.5), 600).filter((x) => x.mutation === 'prefix')) {
          const len = f.bytes.readUInt32BE(0);
          if (f.op === 'short') assert.ok(len < FIXED_HEADER_SIZE);
          if (f.op === 'long' || f.op === 'huge' || f.op === 'negative') assert.ok(len > DEFAULT_MAX_FRAME);
          assert.equal(f.ends, f.op === 'mismatch' ? 'desync' : 'cut');
        }
      }),
      { numRuns: 20 },
    );
  });

  test('templates are valid frames, and the layout finds their fields where the decoder reads them', () => {
    fc.assert(
      fc.property(seeds, poses, fc.boolean(), (seed, pose, rich) => {
        const frame = dataFrame(new FuzzRandom(seed), contextOf(pose), rich).subarray(4);
        const m = decodeMessage(frame);
        assert.notEqual(m.kind, Kind.CONTROL);
        const spans = layoutOf(frame);
        const size = (name: string): number => spans.find((s) => s.name === name)?.size ?? 0;
        assert.deepEqual(
          spans.slice(0, 15).map((s) => s.at),
          [0, 1, 2, 3, 4, 5, 6, 8, 12, 16, 32, 48, 64, 65, 66],
        );
        assert.equal(size('SERVICE'), Buffer.byteLength(m.service));
        assert.equal(size('AAA'), Buffer.byteLength(m.aaa));
        assert.equal(size('ERROR_CODE'), Buffer.byteLength(m.error?.code ?? ''));
        assert.equal(size('TX_ID'), m.tx === undefined ? 0 : 16);
        assert.equal(size('IDEMPOTENCY_KEY'), Buffer.byteLength(m.idempotencyKey ?? ''));
        assert.equal(size('PAYLOAD'), m.payload.length);
        const payload = spans.find((s) => s.name === 'PAYLOAD');
        if (payload !== undefined) assert.equal(payload.at + payload.size, frame.length);
      }),
      { numRuns: 300 },
    );
  });

  test('handshake mutations replay with their seed and use every operation', () => {
    const body = { t: 'hello', version: 1, nodeId: contextOf('vnic').self, alias: 'x', role: 'vnic', services: [] };
    const run = (seed: number) => {
      const r = new FuzzRandom(seed);
      return Array.from({ length: 400 }, () => mutatedHandshake(r, body));
    };
    fc.assert(
      fc.property(seeds, (seed) => {
        const [a, b] = [run(seed), run(seed)];
        assert.deepEqual(
          a.map((m) => m.op),
          b.map((m) => m.op),
        );
        assert.ok(Buffer.concat(a.map((m) => m.bytes)).equals(Buffer.concat(b.map((m) => m.bytes))));
        const ops = new Set(a.map((m) => m.op.split('/')[0]));
        assert.deepEqual(
          HANDSHAKE_OPS.filter((op) => !ops.has(op)),
          [],
        );
        const json = new Set(a.filter((m) => m.op.startsWith('json/')).map((m) => m.op.slice(5)));
        assert.ok(json.size >= JSON_OPS.length / 2, `JSON mutations used: ${[...json].join(', ')}`);
      }),
      { numRuns: 10 },
    );
  });
});
