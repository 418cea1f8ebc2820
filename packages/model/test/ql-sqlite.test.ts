/** The SQL translation and the interpreter select the same rows, checked against a real SQLite database. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema } from '@layer8/fixtures';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { bindQuery, createTableSql, runQuery, sqlColumns, sqlRow, toSql } from '../src/index.ts';
import { demoRegistry } from './fixtures.ts';

const registry = demoRegistry();
const text = fc.constantFrom('', 'a', 'A', 'ab', 'Paris', 'paris', 'b*c', 'x_y', 'z%', 'Lyon');

const orderArb = fc
  .record(
    {
      number: text,
      customerId: text,
      status: fc.integer({ min: 0, max: 3 }),
      shipTo: fc.record({ city: text }),
      discount: fc.constantFrom(0, 0.5, -1.25, 3),
      gift: fc.boolean(),
      priority: fc.integer({ min: -2, max: 5 }),
      city: text,
      weight: fc.constantFrom(0, 0.5, 1.5),
      createdMs: fc.bigInt({ min: 0n, max: 5n }),
    },
    { requiredKeys: ['number', 'status', 'city'] },
  )
  .map((init) => create(OrderSchema, init as never));

const ordersArb = fc
  .array(orderArb, { maxLength: 25 })
  .map((os) => os.map((o, i) => Object.assign(o, { id: BigInt(i + 1) })));

const stringField = fc.constantFrom('number', 'customer_id', 'city', 'ship_to.city');
const numberField = fc.constantFrom('status', 'discount', 'priority', 'weight', 'created_ms', 'id');
const literal = (field: string): fc.Arbitrary<string> =>
  ['number', 'customer_id', 'city', 'ship_to.city'].includes(field)
    ? fc.oneof(text, fc.constantFrom('a*', '*a*', 'P*s', '*', 'b*c', 'x_*', 'z%*', '*y')).map((s) => `'${s}'`)
    : ['id', 'created_ms'].includes(field)
      ? fc.constantFrom('0', '1', '2', '-1', '3')
      : fc.constantFrom('0', '1', '2', '-1', '0.5', '3');
const op = fc.constantFrom('=', '!=', '<', '<=', '>', '>=');

const compareArb = fc.oneof(
  fc
    .tuple(fc.oneof(stringField, numberField), op)
    .chain(([f, o]) =>
      literal(f).map((v) => `${f} ${o} ${/\*/.test(v) && !['=', '!='].includes(o) ? v.replace(/\*/g, '') : v}`),
    ),
  fc
    .tuple(fc.oneof(stringField, numberField, fc.constant('gift')), fc.constantFrom('=', '!='))
    .map(([f, o]) => `${f} ${o} nil`),
  fc.tuple(fc.constantFrom('=', '!='), fc.boolean()).map(([o, b]) => `gift ${o} ${b}`),
  fc
    .tuple(stringField, fc.boolean(), fc.array(text, { minLength: 1, maxLength: 3 }))
    .map(([f, neg, vs]) => `${f} ${neg ? 'not in' : 'in'} [${vs.map((v) => `'${v}'`).join(', ')}]`),
);
const { expr } = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small' },
    compareArb,
    fc.tuple(tie('expr'), fc.constantFrom('and', 'or'), tie('expr')).map(([a, o, b]) => `(${a} ${o} ${b})`),
  ),
}));

const queryArb = fc
  .record({
    where: fc.option(expr),
    sort: fc.option(fc.oneof(stringField, numberField, fc.constant('gift'))),
    descending: fc.boolean(),
    limit: fc.option(fc.integer({ min: 1, max: 6 })),
    page: fc.integer({ min: 0, max: 2 }),
    matchCase: fc.boolean(),
  })
  .map((q) =>
    [
      'select id from Order',
      q.where === null ? '' : `where ${q.where}`,
      q.sort === null ? '' : `sort-by ${q.sort}`,
      q.descending ? 'descending' : '',
      q.limit === null ? '' : `limit ${q.limit} page ${q.page}`,
      q.matchCase ? 'match-case' : '',
    ].join(' '),
  );

function load(db: Database.Database, orders: readonly Order[]): void {
  db.exec('DROP TABLE IF EXISTS "order"');
  db.exec(createTableSql(OrderSchema));
  const cols = sqlColumns(OrderSchema);
  const insert = db.prepare(
    `INSERT INTO "order" (${cols.map((c) => `"${c.name}"`).join(', ')}) VALUES (${cols.map((c) => `@${c.name}`).join(', ')})`,
  );
  for (const o of orders) insert.run(sqlRow(OrderSchema, o));
}

describe('SQL translation against SQLite', () => {
  const db = new Database(':memory:');

  test('where, sort, paging: the same rows in the same order as the interpreter', () => {
    fc.assert(
      fc.property(ordersArb, queryArb, (orders, query) => {
        load(db, orders);
        const bound = bindQuery(registry, query);
        const { sql, params } = toSql(bound);
        const fromSql = db
          .prepare(sql)
          .all(...params)
          .map((r) => String((r as { id: unknown }).id));
        const fromMemory = runQuery(registry, bound, orders).items.map((o) => String(o.id));
        assert.deepEqual(fromSql, fromMemory, `${query}\n${sql}`);
      }),
      { numRuns: 250 },
    );
  });

  test('aggregates with group-by and having agree', () => {
    const aggregateArb = fc
      .record({
        group: fc.constantFrom('city', 'status', 'ship_to.city'),
        where: fc.option(expr),
        having: fc.option(
          fc.constantFrom('count(*) > 1', 'sum(priority) >= 2', "min(city) != 'a'", 'avg(priority) < 1'),
        ),
        descending: fc.boolean(),
      })
      .map(
        (q) =>
          `select ${q.group}, count(*), sum(priority), avg(priority), min(city), max(status), count(discount) from Order` +
          `${q.where === null ? '' : ` where ${q.where}`} group-by ${q.group}` +
          `${q.having === null ? '' : ` having ${q.having}`} sort-by count(*)${q.descending ? ' descending' : ''}`,
      );
    fc.assert(
      fc.property(ordersArb, aggregateArb, (orders, query) => {
        load(db, orders);
        const bound = bindQuery(registry, query);
        const { sql, params } = toSql(bound);
        const fromSql = db.prepare(sql).all(...params);
        const fromMemory = runQuery(registry, bound, orders).rows.map((r) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
        );
        assert.deepEqual(fromSql, fromMemory, `${query}\n${sql}`);
      }),
      { numRuns: 150 },
    );
  });
});
