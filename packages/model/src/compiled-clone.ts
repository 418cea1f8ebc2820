/**
 * Source of the compiled cloner: per message type, `c<i>(m)` returns the message `clone(desc, m)` of
 * `@bufbuild/protobuf` returns: a new object shaped as `create(desc)` (same members in the same order), then
 * every set field copied as reflection copies it — nested messages cloned, lists and maps rebuilt, bytes
 * sliced, oneofs as new `{case, value}`, wrapper fields unwrapped — and the unknown fields last. Values are
 * checked as reflection checks them on set (an invalid value, or a map key it would rewrite, throws so that
 * the caller runs the reflective clone, which then throws its own error or rewrites the key).
 */
import type { DescField, DescMessage, DescOneof } from '@bufbuild/protobuf';
import { elementCheck, isExplicit, isUnwrapped, mapKeySrc, prop, q, valueSrc, wrappedSrc } from './compiled-fields.ts';

type Index = ReadonlyMap<DescMessage, number>;

/** `c<i>` and the `o<i>_<n>` functions of its oneofs. */
export function genClone(desc: DescMessage, i: number, index: Index): string {
  const type = q(desc.typeName);
  const props = [`$typeName:${type}`];
  const later: string[] = [];
  const oneofs: string[] = [];
  for (const member of desc.members) {
    if (member.kind === 'oneof') {
      const fn = `o${i}_${oneofs.length}`;
      oneofs.push(genOneof(fn, member, index));
      props.push(`${q(member.localName)}:${fn}(${prop('m', member.localName)})`);
    } else if (isExplicit(member)) later.push(cloneExplicit(member, index));
    else props.push(`${q(member.localName)}:${cloneImplicit(member, index)}`);
  }
  const unknown = 'v=m.$unknown;if(v&&v.length>0)n.$unknown=cloneUnknown(v);';
  const head = `if(m===null||typeof m!=="object"||m.$typeName!==${type})throw bail;let v;`;
  const fn = `function c${i}(m){${head}const n={${props.join(',')}};${later.join('')}${unknown}return n;}`;
  return [fn, ...oneofs].join('\n');
}

/** A list, a map, or an implicit scalar or enum: always a member of `create(desc)`. */
function cloneImplicit(field: DescField, index: Index): string {
  const value = prop('m', field.localName);
  if (field.fieldKind === 'list') return `cloneList(${value},${elementCheck(field, index)})`;
  if (field.fieldKind === 'map') {
    return `cloneMap(${value},${mapKeySrc(field.mapKey).key},${elementCheck(field, index)})`;
  }
  const s = valueSrc(field);
  return `(v=${value},${s.isSet('v')}?${s.check}(${s.get('v')}):${s.zero})`;
}

/** A field with explicit presence: added after the members of `create(desc)`, in field order, when set. */
function cloneExplicit(field: DescField, index: Index): string {
  const name = q(field.localName);
  let copy: string;
  if (field.fieldKind === 'message' && isUnwrapped(field)) {
    const s = wrappedSrc(field);
    copy = `${s.isSet('v')}?${s.check}(v):${s.zero}`;
  } else if (field.fieldKind === 'message') copy = `c${index.get(field.message)}(v)`;
  else {
    const s = valueSrc(field);
    copy = `${s.check}(${s.get('v')})`;
  }
  return `v=m[${name}];if(v!==undefined&&own(m,${name}))n[${name}]=${copy};`;
}

/** `o<i>_<n>(v)`: a new `{case, value}` for the case that names a member, else `{case: undefined}`. */
function genOneof(fn: string, oneof: DescOneof, index: Index): string {
  const cases = oneof.fields.map((field) => {
    const name = q(field.localName);
    let value: string;
    if (field.fieldKind === 'message') value = `c${index.get(field.message)}(v.value)`;
    else {
      const s = valueSrc(field);
      value = `${s.check}(${s.get('v.value')})`;
    }
    return `case ${name}:return{case:${name},value:${value}};`;
  });
  return `function ${fn}(v){switch(v.case){${cases.join('')}default:return{case:undefined};}}`;
}
