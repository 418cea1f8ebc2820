/**
 * The compiled protobuf codec: per message type, JavaScript source generated once from the `@bufbuild/protobuf`
 * descriptor (like protobufjs' codegen), that reads and writes bufbuild messages directly — `$typeName`, zero
 * values for implicit fields, absent `optional` and message fields, oneofs as `{case, value}`, 64-bit integers
 * as bigint, maps as plain objects, bytes as Uint8Array views of the input. It mirrors `toBinary`/`fromBinary`
 * (same bytes, deep-equal messages) and hands anything unusual back to them (see {@link bail}):
 * invalid values on encode, unknown fields, and any bytes it does not accept on decode.
 * Types it does not compile (see {@link whyNotCompiled}) use `@bufbuild/protobuf` throughout.
 */
import { type DescField, type DescMessage, type Message, protoInt64, ScalarType } from '@bufbuild/protobuf';
import { bail, WireReader, WireWriter } from './wire.ts';

/** Encoder and decoder of one message type that throw (usually {@link bail}) where bufbuild must take over. */
export interface CompiledCodec {
  encode(message: Message): Uint8Array;
  decode(bytes: Uint8Array): Message;
}

type Encode = (w: WireWriter, m: unknown, depth: number) => void;
type Decode = (r: WireReader, end: number, m: Message | undefined, depth: number) => Message;

/** Wire types. */
const VARINT = 0;
const BIT64 = 1;
const DELIMITED = 2;
const BIT32 = 5;
/** `Edition.EDITION_PROTO3`: only proto3 messages are plain objects without a prototype of defaults. */
const EDITION_PROTO3 = 999;
/** `FeatureSet.FieldPresence.IMPLICIT`. */
const IMPLICIT = 2;
const WRAPPERS = /^google\.protobuf\.(Double|Float|Int64|UInt64|Int32|UInt32|Bool|String|Bytes)Value$/;

/** Per scalar type: wire type, reader/writer method, zero literal, and the "is set" test of an implicit field. */
interface ScalarInfo {
  readonly wt: number;
  readonly method: string;
  readonly zero: string;
  readonly isSet: (v: string) => string;
}

const notZeroNumber = (v: string) => `${v}!=0`;
const notZeroFloat = (v: string) => `!Object.is(${v},0)`;
const scalars: Record<number, ScalarInfo> = {
  [ScalarType.DOUBLE]: { wt: BIT64, method: 'double', zero: '0', isSet: notZeroFloat },
  [ScalarType.FLOAT]: { wt: BIT32, method: 'float', zero: '0', isSet: notZeroFloat },
  [ScalarType.INT64]: { wt: VARINT, method: 'int64', zero: '0n', isSet: notZeroNumber },
  [ScalarType.UINT64]: { wt: VARINT, method: 'uint64', zero: '0n', isSet: notZeroNumber },
  [ScalarType.INT32]: { wt: VARINT, method: 'int32', zero: '0', isSet: notZeroNumber },
  [ScalarType.FIXED64]: { wt: BIT64, method: 'fixed64', zero: '0n', isSet: notZeroNumber },
  [ScalarType.FIXED32]: { wt: BIT32, method: 'fixed32', zero: '0', isSet: notZeroNumber },
  [ScalarType.BOOL]: { wt: VARINT, method: 'bool', zero: 'false', isSet: (v) => `${v}!==false` },
  [ScalarType.STRING]: { wt: DELIMITED, method: 'string', zero: '""', isSet: (v) => `${v}!==""` },
  [ScalarType.BYTES]: {
    wt: DELIMITED,
    method: 'bytes',
    zero: 'EMPTY_BYTES',
    isSet: (v) => `(!(${v} instanceof Uint8Array)||${v}.byteLength>0)`,
  },
  [ScalarType.UINT32]: { wt: VARINT, method: 'uint32', zero: '0', isSet: notZeroNumber },
  [ScalarType.SFIXED32]: { wt: BIT32, method: 'sfixed32', zero: '0', isSet: notZeroNumber },
  [ScalarType.SFIXED64]: { wt: BIT64, method: 'sfixed64', zero: '0n', isSet: notZeroNumber },
  [ScalarType.SINT32]: { wt: VARINT, method: 'sint32', zero: '0', isSet: notZeroNumber },
  [ScalarType.SINT64]: { wt: VARINT, method: 'sint64', zero: '0n', isSet: notZeroNumber },
};

/** The value of every unset bytes field a decoder makes: shared (a zero-length array cannot be written to). */
const EMPTY_BYTES = new Uint8Array(0);

const q = (s: string) => JSON.stringify(s);
const tagOf = (no: number, wt: number) => ((no << 3) | wt) >>> 0;

/**
 * Why `desc` (or a message type it reaches) cannot use the compiled codec, or undefined when it can: only
 * proto3 messages whose fields the compiled code reproduces exactly (no `jstype = JS_STRING`, no unwrapped
 * `google.protobuf.*Value` or `Struct` fields, open enums).
 */
export function whyNotCompiled(desc: DescMessage): string | undefined {
  if (!protoInt64.supported) return '64-bit integers are strings (BigInt unavailable)';
  for (const type of reachable(desc)) {
    if (type.file.edition !== EDITION_PROTO3) return `${type.typeName} is not proto3`;
    for (const field of type.fields) {
      const why = whyNotField(field);
      if (why !== undefined) return `${field.parent.typeName}.${field.name} ${why}`;
    }
  }
  return undefined;
}

function whyNotField(field: DescField): string | undefined {
  if (field.localName === '__proto__') return 'is named __proto__';
  if ('longAsString' in field && field.longAsString) return 'has jstype = JS_STRING';
  if (field.fieldKind === 'message' && !field.oneof && WRAPPERS.test(field.message.typeName)) return 'is a wrapper';
  if ('message' in field && field.message?.typeName === 'google.protobuf.Struct') return 'is a Struct';
  if ('enum' in field && field.enum !== undefined && !field.enum.open) return 'has a closed enum';
  return undefined;
}

/** `desc` and every message type its fields reach, `desc` first. */
function reachable(desc: DescMessage): DescMessage[] {
  const seen = new Set([desc]);
  for (const type of seen) {
    for (const field of type.fields) if ('message' in field && field.message !== undefined) seen.add(field.message);
  }
  return [...seen];
}

/**
 * Compiles the codec of `desc` and of the message types it reaches, or returns undefined when
 * {@link whyNotCompiled} gives a reason.
 */
export function compileCodec(desc: DescMessage): CompiledCodec | undefined {
  if (whyNotCompiled(desc) !== undefined) return undefined;
  const types = reachable(desc);
  const index = new Map(types.map((t, i) => [t, i]));
  const src = ['"use strict";'];
  for (const [i, type] of types.entries())
    src.push(genNew(type, i), genEncode(type, i, index), genDecode(type, i, index));
  src.push('return [enc0, dec0];');
  const compile = new Function('bail', 'hasOwn', 'setOwn', 'key64', 'EMPTY_BYTES', src.join('\n'));
  const [enc, dec] = compile(bail, hasOwn, setOwn, key64, EMPTY_BYTES) as [Encode, Decode];
  const writer = new WireWriter();
  return {
    encode(message) {
      writer.reset();
      enc(writer, message, 1);
      return writer.finish();
    },
    decode(bytes) {
      return dec(new WireReader(bytes), bytes.length, undefined, 1);
    },
  };
}

function hasOwn(o: object, key: string): boolean {
  return Object.hasOwn(o, key);
}

/** A 64-bit map key as bigint, or the key itself (which the writer then refuses) when it is no integer. */
function key64(key: string): bigint | string {
  try {
    return BigInt(key);
  } catch {
    return key;
  }
}

/** Sets a map entry; `__proto__` is an ordinary key of a map (as bufbuild's setOwn). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}

/** `new<i>()`: the zero message, shaped as bufbuild's `create(desc)` (members in declaration order). */
function genNew(desc: DescMessage, i: number): string {
  const props = [`$typeName:${q(desc.typeName)}`];
  for (const member of desc.members) {
    if (member.kind === 'oneof') props.push(`${q(member.localName)}:{case:undefined}`);
    else if (member.fieldKind === 'list') props.push(`${q(member.localName)}:[]`);
    else if (member.fieldKind === 'map') props.push(`${q(member.localName)}:{}`);
    else if (member.fieldKind !== 'message' && member.presence === IMPLICIT) {
      props.push(`${q(member.localName)}:${zeroOf(member)}`);
    }
  }
  return `function new${i}(){return {${props.join(',')}};}`;
}

function zeroOf(field: DescField): string {
  if (field.fieldKind === 'enum') return String(field.enum.values[0]?.number ?? 0);
  return field.fieldKind === 'scalar' ? scalarOf(field.scalar).zero : 'undefined';
}

function scalarOf(type: ScalarType): ScalarInfo {
  return scalars[type] as ScalarInfo;
}

/** The scalar type on the wire of a scalar, enum, list or map-value field. */
function wireScalar(field: DescField): ScalarType {
  if (field.fieldKind === 'enum' || field.fieldKind === 'scalar') {
    return field.fieldKind === 'enum' ? ScalarType.INT32 : field.scalar;
  }
  if (field.fieldKind === 'list') return field.listKind === 'enum' ? ScalarType.INT32 : (field.scalar as ScalarType);
  return field.fieldKind === 'map' && field.mapKind !== 'enum' ? (field.scalar as ScalarType) : ScalarType.INT32;
}

// ---------------------------------------------------------------------------------------------- encode

/** `enc<i>(w, m, depth)`: fields by number, as bufbuild's compiled writer. */
function genEncode(desc: DescMessage, i: number, index: Map<DescMessage, number>): string {
  const body = [
    `if(m===null||typeof m!=="object"||m.$typeName!==${q(desc.typeName)}||d>100)throw bail;`,
    'let v;',
    ...[...desc.fields].sort((a, b) => a.number - b.number).map((f) => encodeField(f, index)),
    'if(m.$unknown!==undefined&&m.$unknown.length!==0)throw bail;',
  ];
  return `function enc${i}(w,m,d){${body.join('\n')}}`;
}

function encodeField(field: DescField, index: Map<DescMessage, number>): string {
  const name = q(field.localName);
  const no = field.number;
  if (field.fieldKind === 'list') return encodeList(field, index);
  if (field.fieldKind === 'map') return encodeMap(field, index);
  const write = (v: string) =>
    field.fieldKind === 'message'
      ? writeMessage(no, index.get(field.message) as number, v)
      : writeScalar(no, wireScalar(field), v);
  if (field.oneof) return `v=m[${q(field.oneof.localName)}];if(v.case===${name}){${write('v.value')}}`;
  if (field.fieldKind === 'message' || field.presence !== IMPLICIT) {
    return `v=m[${name}];if(v!==undefined&&hasOwn(m,${name})){${write('v')}}`;
  }
  const isSet = field.fieldKind === 'enum' ? `v!==${zeroOf(field)}` : scalarOf(field.scalar).isSet('v');
  return `v=m[${name}];if(${isSet}){${write('v')}}`;
}

function writeScalar(no: number, type: ScalarType, v: string): string {
  const s = scalarOf(type);
  return `w.u32(${tagOf(no, s.wt)});w.${s.method}(${v});`;
}

function writeMessage(no: number, j: number, v: string): string {
  return `w.u32(${tagOf(no, DELIMITED)});w.fork();enc${j}(w,${v},d+1);w.join();`;
}

function encodeList(field: DescField & { fieldKind: 'list' }, index: Map<DescMessage, number>): string {
  const head = `v=m[${q(field.localName)}];if(!Array.isArray(v))throw bail;`;
  if (field.listKind === 'message') {
    const write = writeMessage(field.number, index.get(field.message) as number, 'v[i]');
    return `${head}for(let i=0;i<v.length;i++){${write}}`;
  }
  const s = scalarOf(wireScalar(field));
  if (!field.packed)
    return `${head}for(let i=0;i<v.length;i++){${writeScalar(field.number, wireScalar(field), 'v[i]')}}`;
  const tag = tagOf(field.number, DELIMITED);
  return `${head}if(v.length!==0){w.u32(${tag});w.fork();for(let i=0;i<v.length;i++)w.${s.method}(v[i]);w.join();}`;
}

/** Map keys are object keys (strings): converted to the key type as bufbuild's writer does. */
const keyConversions: Partial<Record<ScalarType, string>> = {
  [ScalarType.STRING]: 'k',
  [ScalarType.BOOL]: 'k==="true"?true:k==="false"?false:k',
  [ScalarType.INT64]: 'key64(k)',
  [ScalarType.SINT64]: 'key64(k)',
  [ScalarType.SFIXED64]: 'key64(k)',
  [ScalarType.UINT64]: 'key64(k)',
  [ScalarType.FIXED64]: 'key64(k)',
};

function encodeMap(field: DescField & { fieldKind: 'map' }, index: Map<DescMessage, number>): string {
  const key = scalarOf(field.mapKey);
  const convert = keyConversions[field.mapKey] ?? 'Number.parseInt(k)';
  const value =
    field.mapKind === 'message'
      ? writeMessage(2, index.get(field.message) as number, 'v[k]')
      : writeScalar(2, wireScalar(field), 'v[k]');
  return (
    `v=m[${q(field.localName)}];if(v===null||typeof v!=="object")throw bail;` +
    `for(const k of Object.keys(v)){w.u32(${tagOf(field.number, DELIMITED)});w.fork();` +
    `w.u32(${tagOf(1, key.wt)});w.${key.method}(${convert});${value}w.join();}`
  );
}

// ---------------------------------------------------------------------------------------------- decode

/** `dec<i>(r, end, m, depth)`: reads fields until `end` into `m` (a new message when undefined). */
function genDecode(desc: DescMessage, i: number, index: Map<DescMessage, number>): string {
  const cases = desc.fields.flatMap((f) => decodeField(f, index));
  return (
    `function dec${i}(r,end,m,d){if(m===undefined)m=new${i}();if(d>100)throw bail;` +
    `while(r.pos<end){switch(r.tag()){${cases.join('\n')}\ndefault:throw bail;}}` +
    'if(r.pos!==end)throw bail;return m;}'
  );
}

function read(type: ScalarType): string {
  return `r.${scalarOf(type).method}()`;
}

function decodeField(field: DescField, index: Map<DescMessage, number>): string[] {
  const name = `m[${q(field.localName)}]`;
  const no = field.number;
  if (field.fieldKind === 'list') return decodeList(field, index);
  if (field.fieldKind === 'map') return [`case ${tagOf(no, DELIMITED)}:{${decodeMap(field, index)}break;}`];
  if (field.fieldKind === 'message') {
    const j = index.get(field.message) as number;
    if (!field.oneof) return [`case ${tagOf(no, DELIMITED)}:${name}=dec${j}(r,r.end(end),${name},d+1);break;`];
    const one = `m[${q(field.oneof.localName)}]`;
    const c = q(field.localName);
    const value = `dec${j}(r,r.end(end),o.case===${c}?o.value:undefined,d+1)`;
    return [`case ${tagOf(no, DELIMITED)}:{const o=${one};${one}={case:${c},value:${value}};break;}`];
  }
  const type = wireScalar(field);
  const tag = tagOf(no, scalarOf(type).wt);
  if (field.oneof) {
    return [`case ${tag}:m[${q(field.oneof.localName)}]={case:${q(field.localName)},value:${read(type)}};break;`];
  }
  return [`case ${tag}:${name}=${read(type)};break;`];
}

function decodeList(field: DescField & { fieldKind: 'list' }, index: Map<DescMessage, number>): string[] {
  const name = `m[${q(field.localName)}]`;
  const no = field.number;
  if (field.listKind === 'message') {
    const j = index.get(field.message) as number;
    return [`case ${tagOf(no, DELIMITED)}:${name}.push(dec${j}(r,r.end(end),undefined,d+1));break;`];
  }
  const type = wireScalar(field);
  const s = scalarOf(type);
  const single = `case ${tagOf(no, s.wt)}:${name}.push(${read(type)});break;`;
  if (s.wt === DELIMITED) return [single];
  const packed =
    `case ${tagOf(no, DELIMITED)}:{const e=r.end(end),a=${name};` +
    `while(r.pos<e)a.push(${read(type)});if(r.pos!==e)throw bail;break;}`;
  return [single, packed];
}

function decodeMap(field: DescField & { fieldKind: 'map' }, index: Map<DescMessage, number>): string {
  const key = scalarOf(field.mapKey);
  const valueType = wireScalar(field);
  let value: string;
  let fallback: string;
  let valueTag: number;
  if (field.mapKind === 'message') {
    const j = index.get(field.message) as number;
    value = `dec${j}(r,r.end(e),v,d+1)`;
    fallback = `new${j}()`;
    valueTag = tagOf(2, DELIMITED);
  } else {
    value = read(valueType);
    fallback = field.mapKind === 'enum' ? String(field.enum.values[0]?.number ?? 0) : scalarOf(valueType).zero;
    valueTag = tagOf(2, scalarOf(valueType).wt);
  }
  const set = field.mapKey === ScalarType.STRING ? 'if(k==="__proto__")setOwn(o,k,v);else o[k]=v;' : 'o[k]=v;';
  return (
    `const e=r.end(end),o=m[${q(field.localName)}];let k=${key.zero},v;` +
    `while(r.pos<e){const t=r.tag();if(t===${tagOf(1, key.wt)})k=${read(field.mapKey)};` +
    `else if(t===${valueTag})v=${value};else throw bail;}` +
    `if(r.pos!==e)throw bail;if(v===undefined)v=${fallback};${set}`
  );
}
