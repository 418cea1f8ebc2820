/**
 * Source of the compiled differ: per message type, `d<i>(a, b, prefix, patch, out)` pushes the changes that
 * the reflective `diff` of diff.ts pushes, in the same order and with the same paths and copied values. The
 * prefix is the path so far with its trailing dot ("" at the root). Presence, defaults and scalar equality
 * follow reflection (compiled-fields.ts); anything of the wrong shape throws, and the caller then runs the
 * reflective diff.
 */
import type { DescField, DescMessage } from '@bufbuild/protobuf';
import { isExplicit, isUnwrapped, mapKeySrc, prop, q, type ValueSrc, valueSrc, wrappedSrc } from './compiled-fields.ts';

type Index = ReadonlyMap<DescMessage, number>;

/** Pushes of one field: its path expression, a set of a value expression, a delete. */
interface Emit {
  readonly path: string;
  set(value: string): string;
  readonly del: string;
}

function emitOf(path: string): Emit {
  return {
    path,
    set: (value) => `o.push({path:${path},op:"set",value:${value}});`,
    del: `o.push({path:${path},op:"delete"});`,
  };
}

/** `d<i>`: the fields of `desc` in declaration order, as diff.ts walks them. */
export function genDiff(desc: DescMessage, i: number, index: Index): string {
  const type = q(desc.typeName);
  const check = (m: string) => `${m}===null||typeof ${m}!=="object"||${m}.$typeName!==${type}`;
  const body = [
    `if(${check('a')}||${check('b')})throw bail;`,
    'let x,y;',
    ...desc.fields.map((f) => diffField(f, index)),
  ];
  return `function d${i}(a,b,p,t,o){${body.join('\n')}}`;
}

function diffField(field: DescField, index: Index): string {
  const emit = emitOf(`p+${q(field.name)}`);
  if (field.fieldKind === 'list') return diffList(field, index, emit);
  if (field.fieldKind === 'map') return diffMap(field, index, emit);
  if (field.oneof !== undefined) return diffOneofMember(field, index, emit);
  if (field.fieldKind === 'message') {
    return isUnwrapped(field) ? diffWrapper(field, emit) : diffMessage(field, index, emit);
  }
  const read = `x=${prop('a', field.localName)};y=${prop('b', field.localName)};`;
  return read + (isExplicit(field) ? diffExplicit(field, emit) : diffImplicit(valueSrc(field), emit));
}

/**
 * A field of implicit presence in `x` and `y`: set when `y` is set and differs, deleted (PUT) when only `x`
 * is set. Identical values (Object.is for floats, where 0 and -0 differ) cannot change anything.
 */
function diffImplicit(s: ValueSrc, emit: Emit): string {
  const differ = s.float ? '!Object.is(x,y)' : 'x!==y';
  const changed = `!(${s.isSet('x')})||!same(${s.get('x')},${s.get('y')})`;
  return `if(${differ}){if(${s.isSet('y')}){if(${changed})${emit.set(`copy(${s.get('y')})`)}}else if(!t&&(${s.isSet('x')}))${emit.del}}`;
}

/** Set when the property is there with a value (`optional` scalars and enums, messages). */
const isSetIn = (m: string, v: string, field: DescField) => `${v}!==undefined&&own(${m},${q(field.localName)})`;

function diffExplicit(field: DescField, emit: Emit): string {
  const s = valueSrc(field);
  const changed = `!(${isSetIn('a', 'x', field)})||!same(${s.get('x')},${s.get('y')})`;
  const body = `if(${isSetIn('b', 'y', field)}){if(${changed})${emit.set(`copy(${s.get('y')})`)}}`;
  return `if(x!==undefined||y!==undefined){${body}else if(!t&&${isSetIn('a', 'x', field)})${emit.del}}`;
}

/** A message field: merged field by field when both have it, else cloned whole or deleted. */
function diffMessage(field: DescField & { fieldKind: 'message' }, index: Index, emit: Emit): string {
  const j = index.get(field.message) as number;
  const both = `if(${isSetIn('a', 'x', field)})d${j}(x,y,${emit.path}+".",t,o);else ${emit.set(`c${j}(y)`)}`;
  const read = `x=${prop('a', field.localName)};y=${prop('b', field.localName)};`;
  return `${read}if(${isSetIn('b', 'y', field)}){${both}}else if(!t&&${isSetIn('a', 'x', field)})${emit.del}`;
}

/**
 * A `google.protobuf.*Value` field holds the bare value; reflection wraps it, so its one field `value` is
 * diffed as an implicit field below it, and a new one is set as the whole wrapper message.
 */
function diffWrapper(field: DescField & { fieldKind: 'message' }, emit: Emit): string {
  const s = wrappedSrc(field);
  const inner = diffImplicit(s, emitOf(`${emit.path}+".value"`));
  const whole = `{$typeName:${q(field.message.typeName)},value:${s.isSet('y')}?${s.check}(y):${s.zero}}`;
  const both = `if(${isSetIn('a', 'x', field)}){${inner}}else ${emit.set(whole)}`;
  const read = `x=${prop('a', field.localName)};y=${prop('b', field.localName)};`;
  return `${read}if(${isSetIn('b', 'y', field)}){${both}}else if(!t&&${isSetIn('a', 'x', field)})${emit.del}`;
}

/** A member of a oneof: set when it is the case of `b`, merged when it is the case of both. */
function diffOneofMember(field: DescField, index: Index, emit: Emit): string {
  const oneof = field.oneof?.localName as string;
  const name = q(field.localName);
  const read = `x=${prop('a', oneof)};y=${prop('b', oneof)};`;
  let both: string;
  if (field.fieldKind === 'message') {
    const j = index.get(field.message) as number;
    both = `if(x.case===${name})d${j}(x.value,y.value,${emit.path}+".",t,o);else ${emit.set(`c${j}(y.value)`)}`;
  } else {
    const s = valueSrc(field);
    both = `if(x.case!==${name}||!same(${s.get('x.value')},${s.get('y.value')}))${emit.set(`copy(${s.get('y.value')})`)}`;
  }
  return `${read}if(y.case===${name}){${both}}else if(!t&&x.case===${name})${emit.del}`;
}

/** A list is set when not empty; elements compare by index (messages merge without PATCH). */
function diffList(field: DescField & { fieldKind: 'list' }, index: Index, emit: Emit): string {
  const read = `x=${prop('a', field.localName)};y=${prop('b', field.localName)};`;
  const guard = 'if(!Array.isArray(x)||!Array.isArray(y))throw bail;';
  const body = field.listKind === 'message' ? messageList(index.get(field.message) as number, emit) : scalarList(emit);
  return `${read}${guard}if(y.length!==0){${body}}else if(!t&&x.length!==0)${emit.del}`;
}

function scalarList(emit: Emit): string {
  return `diffList(x,y,${emit.path},o);`;
}

function messageList(j: number, emit: Emit): string {
  const at = `${emit.path}+"<"+i+">"`;
  return (
    `const n=Math.min(x.length,y.length);let i=0;for(;i<n;i++)d${j}(x[i],y[i],${at}+".",false,o);` +
    `for(i=x.length;i<y.length;i++)o.push({path:${at},op:"set",value:c${j}(y[i])});` +
    `for(i=x.length-1;i>=y.length;i--)o.push({path:${at},op:"delete"});`
  );
}

/** A map is set when it has keys; entries pair up by the key text reflection gives them. */
function diffMap(field: DescField & { fieldKind: 'map' }, index: Index, emit: Emit): string {
  const read = `x=${prop('a', field.localName)};y=${prop('b', field.localName)};`;
  const guard = 'if(x===null||typeof x!=="object"||y===null||typeof y!=="object")throw bail;';
  const j = field.mapKind === 'message' ? index.get(field.message) : undefined;
  const messages = j === undefined ? '' : `,d${j},c${j}`;
  const call = `diffMap(x,y,k,${emit.path},t,o,${mapKeySrc(field.mapKey).norm}${messages})`;
  return `${read}${guard}{const k=Object.keys(y);if(k.length!==0)${call};else if(!t&&Object.keys(x).length!==0)${emit.del}}`;
}
