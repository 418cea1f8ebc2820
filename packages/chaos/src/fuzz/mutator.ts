import { FIXED_HEADER_SIZE, Kind, Offset } from '@layer8/protocol';
import { mutateField } from './field-ops.ts';
import { FIELD_NAMES, type FieldName, type FieldSpan, layoutOf } from './frame-layout.ts';
import { FuzzRandom } from './fuzz-random.ts';
import { mutateJson } from './json-mutations.ts';
import { controlBodyOf, controlFrame, dataFrame, type FuzzContext, rawControlFrame } from './templates.ts';

/** The kinds of frame the mutator makes. */
export const MUTATIONS = [
  'valid',
  'field',
  'kind',
  'control',
  'prefix',
  'truncate',
  'concat',
  'random',
  'stream',
] as const;

/** A kind of mutation. */
export type Mutation = (typeof MUTATIONS)[number];

/**
 * One unit of fuzz input: usually a length-prefixed frame, possibly broken; for `stream`, raw bytes.
 * `ends` says what the frame is expected to do to the link: `cut` (the target closes it), `desync` (the
 * stream's frame boundaries are lost, so the fuzzer ends the link itself after it), or nothing.
 */
export interface FuzzFrame {
  readonly bytes: Buffer;
  readonly mutation: Mutation;
  /** The field aimed at (`field`, `kind` and `prefix` mutations). */
  readonly field?: FieldName;
  /** The operation applied (`flip`, `past-end`, `huge`, a JSON mutation …). */
  readonly op: string;
  readonly ends?: 'cut' | 'desync';
}

/** Options of a {@link FrameMutator}. */
export interface MutatorOptions {
  readonly seed: number;
  readonly ctx: FuzzContext;
  /** The target's largest frame (a longer prefix closes the link). */
  readonly maxFrame: number;
  /** Share of frames that end a batch (a cut or a desync): the cost of a redial is paid that often. Default 1/128. */
  readonly endRate?: number;
  /** Whether the target closes the link on a malformed control message (a VNet does; a VNic counts it). */
  readonly badControlCuts: boolean;
}

/** Fields a `field` mutation aims at: every field of the layout (the prefix has its own mutation). */
const AIMED: readonly FieldName[] = FIELD_NAMES.filter((f) => f !== 'PREFIX');

/** The mutations that keep the link, and their weights. */
const KEEP: readonly Mutation[] = ['valid', 'field', 'kind', 'control', 'truncate', 'concat', 'random'];
const KEEP_WEIGHTS: readonly number[] = [6, 50, 6, 8, 8, 8, 8];

/**
 * Structure-aware mutations of valid frames (docs/protocol.md §2-§7), seeded: the same seed and context
 * give the same frames, byte for byte. Counts what it made in {@link coverage} (`mutation`,
 * `field.<name>` and `control.<t>` keys), so a run can show that every field was reached.
 *
 * Invariant: every frame {@link next} returns is counted in `coverage` under its mutation and, when it
 * aimed at one, its field.
 */
export class FrameMutator {
  readonly coverage = new Map<string, number>();
  readonly #rng: FuzzRandom;
  readonly #o: MutatorOptions;
  readonly #endRate: number;

  constructor(options: MutatorOptions) {
    this.#o = options;
    this.#rng = new FuzzRandom(options.seed);
    this.#endRate = options.endRate ?? 1 / 128;
  }

  /** Frames up to `max`, stopping after the first that is expected to end the link. */
  batch(max: number): FuzzFrame[] {
    const out: FuzzFrame[] = [];
    while (out.length < max) {
      const f = this.next();
      out.push(f);
      if (f.ends !== undefined) break;
    }
    return out;
  }

  /** The next fuzz frame. */
  next(): FuzzFrame {
    const rng = this.#rng;
    const f = rng.chance(this.#endRate) ? this.#ending() : this.#keeping(KEEP[rng.weighted(KEEP_WEIGHTS)] as Mutation);
    this.#count(f.mutation);
    if (f.field !== undefined) this.#count(`field.${f.field}`);
    return f;
  }

  #count(key: string): void {
    this.coverage.set(key, (this.coverage.get(key) ?? 0) + 1);
  }

  #keeping(m: Mutation): FuzzFrame {
    switch (m) {
      case 'field':
        return this.#field(!this.#o.badControlCuts);
      case 'kind':
        return this.#kind(!this.#o.badControlCuts);
      case 'control':
        return this.#control(!this.#o.badControlCuts && this.#rng.chance(0.8));
      case 'truncate':
        return this.#truncate(true);
      case 'concat':
        return this.#concat();
      case 'random':
        return this.#random();
      default:
        return { bytes: this.#data(), mutation: 'valid', op: 'valid' };
    }
  }

  /**
   * A frame that ends the link: a refused or lost length, raw bytes, and where the target closes the link
   * on a bad control message, a mutated control frame (its body, a header field, or a data frame made one).
   */
  #ending(): FuzzFrame {
    const choices: (() => FuzzFrame)[] = [() => this.#prefix(), () => this.#truncate(false), () => this.#stream()];
    if (this.#o.badControlCuts) {
      const cut = (f: FuzzFrame): FuzzFrame => ({ ...f, ends: 'cut' });
      choices.push(
        () => cut(this.#control(true)),
        () => cut(this.#control(true)),
        () => cut(this.#controlField()),
      );
      choices.push(() => cut(this.#kind(true, Kind.CONTROL)));
    }
    return this.#rng.pick(choices)();
  }

  #data(): Buffer {
    return dataFrame(this.#rng, this.#o.ctx);
  }

  /** A valid frame holding `field`: a data frame, or with `control`, sometimes a control frame. */
  #holding(field: FieldName, control: boolean): { frame: Buffer; span: FieldSpan } {
    const rng = this.#rng;
    let frame: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 8; i++) {
      frame = control && rng.chance(0.1) ? this.#validControl() : dataFrame(rng, this.#o.ctx, true);
      const span = layoutOf(frame.subarray(4)).find((s) => s.name === field);
      if (span !== undefined) return { frame, span: { ...span, at: span.at + 4 } };
    }
    const spans = layoutOf(frame.subarray(4));
    const span = spans[rng.below(spans.length)] as FieldSpan;
    return { frame, span: { ...span, at: span.at + 4 } };
  }

  #validControl(): Buffer {
    return controlFrame(this.#o.ctx, controlBodyOf(this.#rng, this.#o.ctx));
  }

  /** One field of a frame mutated; with `control`, the frame may be a control frame and the field may make one. */
  #field(control: boolean): FuzzFrame {
    const { frame, span } = this.#holding(this.#rng.pick(AIMED), control);
    return this.#mutated(frame, span, control);
  }

  #mutated(frame: Buffer, span: FieldSpan, control: boolean): FuzzFrame {
    const ids = { target: this.#o.ctx.target, self: this.#o.ctx.self, nodes: this.#o.ctx.nodes };
    const body = frame.subarray(4);
    const op = mutateField(this.#rng, body, { ...span, at: span.at - 4 }, ids);
    // a data frame that became a CONTROL frame is refused by a VNet: keep it for the frames that end a link
    if (!control && body[Offset.KIND] === Kind.CONTROL) body[Offset.KIND] = Kind.NOTIFY;
    return { bytes: frame, mutation: 'field', field: span.name, op };
  }

  /** A header field of a control frame mutated (a VNet reads the body, so the link usually ends). */
  #controlField(): FuzzFrame {
    const frame = this.#validControl();
    const spans = layoutOf(frame.subarray(4));
    const span = spans[this.#rng.below(spans.length)] as FieldSpan;
    return this.#mutated(frame, { ...span, at: span.at + 4 }, true);
  }

  /**
   * The kind byte set to another value, valid or not. With `control` the frame may be a control frame and
   * `kind` may be CONTROL; without, neither (a VNet refuses those).
   */
  #kind(control: boolean, kind?: number): FuzzFrame {
    const rng = this.#rng;
    const frame = control && rng.chance(0.3) ? this.#validControl() : this.#data();
    let k = kind ?? rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 127, 128, 255, rng.below(256)]);
    if (!control && k === Kind.CONTROL) k = Kind.EVENT;
    frame[4 + Offset.KIND] = k;
    return { bytes: frame, mutation: 'kind', field: 'KIND', op: k >= 1 && k <= 7 ? `kind-${k}` : 'invalid' };
  }

  /** A control frame of the link's pose: valid, or with its JSON body mutated. */
  #control(mutate: boolean): FuzzFrame {
    const rng = this.#rng;
    const body = controlBodyOf(rng, this.#o.ctx);
    this.#count(`control.${body.t}`);
    if (!mutate) return { bytes: controlFrame(this.#o.ctx, body), mutation: 'control', op: 'valid' };
    const m = mutateJson(rng, body);
    return { bytes: rawControlFrame(this.#o.ctx.self, m.payload), mutation: 'control', op: m.op };
  }

  /** The length prefix: under the fixed header, over the target's maximum, huge, negative, or off by a little. */
  #prefix(): FuzzFrame {
    const rng = this.#rng;
    const frame = this.#data();
    const len = frame.length - 4;
    const op = rng.pick(['short', 'long', 'huge', 'negative', 'mismatch'] as const);
    const value = {
      short: rng.below(FIXED_HEADER_SIZE),
      long: this.#o.maxFrame + 1 + rng.below(1 << 20),
      huge: 0xffff_ffff,
      negative: 0x8000_0000 + rng.below(1 << 16),
      mismatch: Math.max(FIXED_HEADER_SIZE, len + rng.pick([-16, -1, 1, 16, 4096])),
    }[op];
    frame.writeUInt32BE(value, 0);
    const cut = op !== 'mismatch';
    // a refused length is refused before the body is read: only the prefix and a few bytes go out
    const bytes = cut ? frame.subarray(0, 4 + rng.below(Math.min(len, 64))) : frame;
    return { bytes, mutation: 'prefix', field: 'PREFIX', op, ends: cut ? 'cut' : 'desync' };
  }

  /**
   * A frame cut short: its prefix fixed to the new length, still a whole header (`fixed`), or left as it
   * was (`kept`: the target waits for bytes that never come, a desync).
   */
  #truncate(fixed: boolean): FuzzFrame {
    const rng = this.#rng;
    const frame = this.#data();
    const len = frame.length - 4;
    if (!fixed)
      return { bytes: frame.subarray(0, 4 + rng.below(len)), mutation: 'truncate', op: 'kept', ends: 'desync' };
    const keep = FIXED_HEADER_SIZE + rng.below(len - FIXED_HEADER_SIZE);
    const bytes = frame.subarray(0, 4 + keep);
    bytes.writeUInt32BE(keep, 0);
    return { bytes, mutation: 'truncate', op: 'fixed' };
  }

  /** Two frames made one: the second (prefix included) as trailing bytes of the first, or the first's header on the second's body. */
  #concat(): FuzzFrame {
    const [a, b] = [this.#data(), this.#data()];
    if (this.#rng.chance(0.5)) {
      const joined = Buffer.concat([a, b]);
      joined.writeUInt32BE(joined.length - 4, 0);
      return { bytes: joined, mutation: 'concat', op: 'joined' };
    }
    const spliced = Buffer.concat([a.subarray(0, 4 + FIXED_HEADER_SIZE), b.subarray(4 + FIXED_HEADER_SIZE)]);
    spliced.writeUInt32BE(spliced.length - 4, 0);
    return { bytes: spliced, mutation: 'concat', op: 'spliced' };
  }

  /** A well-framed length with random bytes inside, sometimes with a valid version and kind to get further. */
  #random(): FuzzFrame {
    const rng = this.#rng;
    const len = FIXED_HEADER_SIZE + rng.below(rng.chance(0.9) ? 512 : 65_536);
    const bytes = rng.bytes(4 + len);
    bytes.writeUInt32BE(len, 0);
    const versioned = rng.chance(0.5);
    if (!versioned && this.#o.badControlCuts && bytes[4 + Offset.KIND] === Kind.CONTROL) bytes[4 + Offset.KIND] = 0;
    if (versioned) {
      bytes[4 + Offset.VERSION] = 1;
      bytes[4 + Offset.KIND] = rng.pick([Kind.REQUEST, Kind.REPLY, Kind.FAIL, Kind.NOTIFY, Kind.EVENT, Kind.PROGRESS]);
      bytes[4 + Offset.MODE] = rng.below(6);
      bytes[4 + Offset.SERVICE_LEN] = rng.below(len - FIXED_HEADER_SIZE + 1);
    }
    return { bytes, mutation: 'random', op: versioned ? 'versioned' : 'bytes' };
  }

  /** Raw random bytes with no framing at all. */
  #stream(): FuzzFrame {
    return { bytes: this.#rng.bytes(1 + this.#rng.below(64)), mutation: 'stream', op: 'bytes', ends: 'desync' };
  }
}
