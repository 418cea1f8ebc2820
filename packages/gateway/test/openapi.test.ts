import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { create, createFileRegistry, type DescMessage, toJson } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from '@bufbuild/protobuf/wkt';
import { AllTypesSchema, CustomerSchema, OrderSchema, SeatSchema, WithWrapperSchema } from '@layer8/fixtures';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { type JsonSchema, SchemaBuilder } from '../src/index.ts';
import { messageArb } from './arb.ts';
import { type Gw, http, type Node, published, type Rig, rig } from './kit.ts';

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** A validator of canonical JSON against the named schemas, with the formats the builder writes. */
function validatorOf(schemas: Record<string, JsonSchema>) {
  const ajv = new Ajv2020({
    strict: true,
    formats: { int32: true, int64: true, float: true, double: true, byte: true, 'date-time': DATE_TIME },
  });
  ajv.addSchema({ $id: 'http://l8.invalid/model', $defs: schemas });
  return (name: string) => ajv.compile({ $ref: `http://l8.invalid/model#/$defs/${name}` });
}

/** A file with every well-known type as a field, a map of messages, repetition and recursion. */
function clockModel(): DescMessage {
  const wkt = [
    file_google_protobuf_timestamp,
    file_google_protobuf_duration,
    file_google_protobuf_struct,
    file_google_protobuf_field_mask,
    file_google_protobuf_empty,
    file_google_protobuf_wrappers,
    file_google_protobuf_any,
  ];
  const msg = (name: string, number: number, typeName: string, label = Label.OPTIONAL) => ({
    name,
    number,
    label,
    type: Type.MESSAGE,
    typeName,
    jsonName: name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
  });
  const file = create(FileDescriptorProtoSchema, {
    name: 'test/v1/clock.proto',
    package: 'test.v1',
    syntax: 'proto3',
    dependency: wkt.map((f) => f.proto.name),
    messageType: [
      {
        name: 'Clock',
        field: [
          msg('at', 1, '.google.protobuf.Timestamp'),
          msg('took', 2, '.google.protobuf.Duration'),
          msg('meta', 3, '.google.protobuf.Struct'),
          msg('any_value', 4, '.google.protobuf.Value'),
          msg('list', 5, '.google.protobuf.ListValue'),
          msg('mask', 6, '.google.protobuf.FieldMask'),
          msg('nothing', 7, '.google.protobuf.Empty'),
          msg('count', 8, '.google.protobuf.Int64Value'),
          msg('label', 9, '.google.protobuf.StringValue'),
          {
            name: 'nil',
            number: 10,
            label: Label.OPTIONAL,
            type: Type.ENUM,
            typeName: '.google.protobuf.NullValue',
            jsonName: 'nil',
          },
          msg('child', 11, '.test.v1.Clock'),
          msg('history', 12, '.google.protobuf.Timestamp', Label.REPEATED),
          msg('by_name', 13, '.test.v1.Clock.ByNameEntry', Label.REPEATED),
          msg('payload', 14, '.google.protobuf.Any'),
        ],
        nestedType: [
          {
            name: 'ByNameEntry',
            options: { mapEntry: true },
            field: [
              { name: 'key', number: 1, label: Label.OPTIONAL, type: Type.STRING, jsonName: 'key' },
              msg('value', 2, '.google.protobuf.Timestamp'),
            ],
          },
        ],
      },
    ],
  });
  const registry = createFileRegistry(file, (name) => wkt.find((f) => f.proto.name === name));
  return registry.getMessage('test.v1.Clock') as DescMessage;
}

describe('JSON Schema of models: what protobuf’s canonical JSON writes, checked on random messages', () => {
  const schemas = new SchemaBuilder('http://l8.invalid/model#/$defs/');
  const models = [OrderSchema, SeatSchema, AllTypesSchema, WithWrapperSchema, CustomerSchema, clockModel()];
  for (const m of models) schemas.nameOf(m);
  const compile = validatorOf(schemas.schemas);

  for (const desc of models) {
    test(`${desc.typeName}: every random message's JSON fits its schema`, () => {
      const valid = compile(desc.typeName);
      fc.assert(
        fc.property(messageArb(desc), (m) => {
          const json = toJson(desc, m, { alwaysEmitImplicit: true });
          assert.ok(valid(json), `${JSON.stringify(valid.errors)}\n${JSON.stringify(json)}`);
        }),
        { numRuns: 150 },
      );
    });
  }

  test('the forms of the mapping: int64 as string, enums by name, bytes base64, well-known types', () => {
    const order = schemas.schemas['layer8.demo.v1.Order'] as { properties: Record<string, JsonSchema> };
    assert.deepEqual(order.properties.id, { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' });
    assert.deepEqual(order.properties.status, {
      type: 'string',
      enum: ['STATUS_UNSPECIFIED', 'STATUS_OPEN', 'STATUS_PAID', 'STATUS_SHIPPED'],
    });
    assert.equal(order.properties.signature?.contentEncoding, 'base64');
    assert.deepEqual(order.properties.lines, {
      type: 'array',
      items: { $ref: 'http://l8.invalid/model#/$defs/layer8.demo.v1.OrderLine' },
    });
    assert.deepEqual(order.properties.flags?.propertyNames, { pattern: '^(true|false)$' });
    const clock = schemas.schemas['test.v1.Clock'] as { properties: Record<string, JsonSchema> };
    assert.deepEqual(clock.properties.at, { type: 'string', format: 'date-time' });
    assert.deepEqual(clock.properties.nil, { type: 'null' });
    assert.deepEqual(clock.properties.count, order.properties.id);
    const wrong = compile('test.v1.Clock');
    assert.equal(wrong({ at: 'yesterday' }), false);
    assert.equal(wrong({ count: 5 }), false, 'an Int64Value is a string');
  });

  test('two different messages of one name get distinct schema names', () => {
    const b = new SchemaBuilder('#/');
    assert.equal(b.nameOf(clockModel()), 'test.v1.Clock');
    assert.equal(b.nameOf(clockModel()), 'test.v1.Clock_2');
  });
});

describe('/openapi.json and /docs, served by the gateway', () => {
  let r: Rig;
  let svc: Node;
  let gw: Gw;

  before(async () => {
    r = await rig();
    svc = await r.node('a');
    await svc.services.activate({
      name: 'Orders',
      type: OrderSchema,
      web: { actions: ['post', 'put', 'patch', 'delete', 'get'] },
    });
    await svc.services.activate({ name: 'Seats', area: 2, type: SeatSchema, web: { actions: ['get'], maxLimit: 10 } });
    await svc.services.activate({
      name: 'Types',
      type: AllTypesSchema,
      web: { actions: ['post'] },
      handlers: { post: (item) => item },
    });
    gw = await r.gateway('g', { title: 'Shop' });
    for (const [name, area] of [
      ['Orders', 0],
      ['Seats', 2],
      ['Types', 0],
    ] as const)
      await published(gw, name, area);
  });
  after(() => r.close());

  test('the document is valid OpenAPI 3.1 and lists each exposed action', async () => {
    const a = await http(gw.url, 'GET', '/openapi.json');
    assert.equal(a.status, 200);
    const doc = a.json as { info: { title: string }; paths: Record<string, Record<string, unknown>> };
    const result = await new Validator().validate(doc as never);
    assert.deepEqual(result.errors, undefined);
    assert.equal(result.valid, true);
    assert.equal(doc.info.title, 'Shop');
    const ops = Object.entries(doc.paths).map(([p, item]) => [p, Object.keys(item).filter((k) => k !== 'parameters')]);
    assert.deepEqual(ops, [
      ['/l8/0/Orders', ['get', 'post', 'put', 'patch']],
      ['/l8/0/Orders/{key}', ['get', 'delete']],
      ['/l8/0/Types', ['post']],
      ['/l8/2/Seats', ['get']],
      ['/l8/2/Seats/{key}', ['get']],
    ]);
  });

  test('answers fit the schemas the document gives for them', async () => {
    const doc = (await http(gw.url, 'GET', '/openapi.json')).json as {
      components: { schemas: Record<string, JsonSchema> };
    };
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: 'http://l8.invalid/doc', ...doc } as never);
    const check = (pointer: string, body: unknown) => {
      const valid = ajv.compile({ $ref: `http://l8.invalid/doc#${pointer}` });
      assert.ok(valid(body), `${pointer}: ${JSON.stringify(valid.errors)}`);
    };
    const order = { id: '3', number: 'O-3', status: 'STATUS_PAID', lines: [{ no: 1 }], tags: { a: 'b' } };
    const posted = await http(gw.url, 'POST', '/l8/0/Orders', order);
    const json = '/content/application~1json/schema';
    check(`/paths/~1l8~10~1Orders/post/responses/201${json}`, posted.json);
    check(`/paths/~1l8~10~1Orders~1{key}/get/responses/200${json}`, (await http(gw.url, 'GET', '/l8/0/Orders/3')).json);
    check(`/paths/~1l8~10~1Orders/get/responses/200${json}`, (await http(gw.url, 'GET', '/l8/0/Orders')).json);
    const refused = await http(gw.url, 'POST', '/l8/0/Orders', order);
    check('/components/responses/Error/content/application~1json/schema', refused.json);
    const types = await http(gw.url, 'POST', '/l8/0/Types', { fInt64: '-5', fKind: 'KIND_B', mInt32: { '7': 'x' } });
    assert.equal(types.status, 200, types.text);
    check('/components/schemas/layer8.demo.v1.AllTypes', types.json);
  });

  test('the document follows the directory', async () => {
    const paths = async () =>
      Object.keys(((await http(gw.url, 'GET', '/openapi.json')).json as { paths: object }).paths);
    await svc.services.deactivate('Types');
    await published(gw, 'Types', 0, false);
    assert.ok(!(await paths()).includes('/l8/0/Types'));
    assert.equal(gw.gateway.openApi(), gw.gateway.openApi(), 'rebuilt only when the directory changes');
  });

  test('/docs serves the interactive page and its assets from the gateway itself', async () => {
    const page = await http(gw.url, 'GET', '/docs');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') as string, /^text\/html/);
    assert.match(page.headers.get('content-security-policy') as string, /connect-src 'self'/);
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(sources.length >= 4 && sources.every((s) => s.startsWith('/docs/assets/')), sources.join());
    for (const s of sources) {
      const res = await fetch(`${gw.url}${s}`);
      assert.equal(res.status, 200, s);
      assert.ok((await res.arrayBuffer()).byteLength > 0, s);
    }
    const init = await http(gw.url, 'GET', '/docs/assets/init.js');
    assert.match(init.text, /url: "\/openapi.json"/);
    assert.match(init.text, /validatorUrl: null/);
    const other = await http(gw.url, 'GET', '/docs/assets/package.json');
    assert.deepEqual([other.status, (other.json as { code: string }).code], [404, 'L8_ERR_NOT_FOUND']);
    assert.equal((await http(gw.url, 'GET', '/docs/assets/..%2Fpackage.json')).status, 404);
  });
});
