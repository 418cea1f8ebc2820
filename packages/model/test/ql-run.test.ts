import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type Order, OrderSchema } from '@layer8/fixtures';
import { bindQuery, createTableSql, matches, runQuery, sqlColumns, sqlRow, toSql } from '../src/index.ts';
import { demoRegistry, sampleOrder } from './fixtures.ts';

const registry = demoRegistry();

function orders(): Order[] {
  return [
    create(OrderSchema, {
      id: 1n,
      number: 'homepage',
      city: 'Paris',
      status: 1,
      gift: true,
      priority: 2,
      lines: [{ qty: 5, sku: 'apple' }],
      tags: { color: 'red' },
    }),
    create(OrderSchema, {
      id: 2n,
      number: 'A*2',
      city: 'paris',
      status: 2,
      gift: false,
      discount: 0,
      shipTo: { city: 'Lyon' },
    }),
    create(OrderSchema, {
      id: 3n,
      number: 'b_3',
      city: 'Lyon',
      status: 2,
      priority: 7,
      lines: [{ qty: 1 }, { qty: 9 }],
      tags: { color: 'blue' },
    }),
    create(OrderSchema, { id: 4n, number: '', city: '', status: 0, priority: 0, createdMs: 10n }),
  ];
}

function ids(text: string): number[] {
  return runQuery(registry, text, orders()).items.map((o) => Number(o.id));
}

describe('L8QL interpreter', () => {
  test('comparisons, case folding, globs and match-case', () => {
    assert.deepEqual(ids("select * from Order where city = 'PARIS'"), [1, 2]);
    assert.deepEqual(ids("select * from Order where city = 'Paris' match-case"), [1]);
    assert.deepEqual(ids("select * from Order where number = 'home*'"), [1]);
    assert.deepEqual(ids("select * from Order where number = '*e*e'"), [1]);
    assert.deepEqual(ids("select * from Order where number = 'ho*' match-case"), [1]);
    assert.deepEqual(ids("select * from Order where number != 'home*'"), [2, 3, 4]);
    assert.deepEqual(ids("select * from Order where number='homepage'"), [1]);
    assert.deepEqual(ids('select * from Order where priority >= 2'), [1, 3]);
    assert.deepEqual(ids('select * from Order where priority < 7 and priority != 0'), [1]);
    assert.deepEqual(ids('select * from Order where status = paid or status = STATUS_OPEN'), [1, 2, 3]);
    assert.deepEqual(ids('select * from Order where status in [1, shipped] '), [1]);
    assert.deepEqual(ids("select * from Order where city not in ['lyon', '']"), [1, 2]);
    assert.deepEqual(ids('select * from Order where created_ms > 5'), [4]);
    assert.deepEqual(ids('select * from Order where gift = false'), [2]);
    assert.deepEqual(ids("select * from Order where gift = 'true'"), [1]);
  });

  test('nil matches absent and zero values', () => {
    assert.deepEqual(ids('select * from Order where priority = nil'), [2, 4]);
    assert.deepEqual(ids('select * from Order where discount = nil'), [1, 2, 3, 4]);
    assert.deepEqual(ids('select * from Order where gift != nil'), [1]);
    assert.deepEqual(ids('select * from Order where ship_to = nil'), [1, 3, 4]);
    assert.deepEqual(ids('select * from Order where ship_to.city = nil'), [1, 3, 4]);
    assert.deepEqual(ids('select * from Order where lines = nil'), [2, 4]);
  });

  test('paths through lists and maps: by key or any element', () => {
    assert.deepEqual(ids('select * from Order where lines.qty > 4'), [1, 3]);
    assert.deepEqual(ids('select * from Order where lines<0>.qty > 4'), [1]);
    assert.deepEqual(ids('select * from Order where tags<color> = red'), [1]);
    assert.deepEqual(ids('select * from Order where tags = blue'), [3]);
    assert.deepEqual(ids('select * from Order where ship_to.city = lyon and (id = 2 or id = 3)'), [2]);
  });

  test('sorting, ties by primary key, paging and projection', () => {
    assert.deepEqual(ids('select * from Order sort-by city'), [4, 3, 1, 2]);
    assert.deepEqual(ids('select * from Order sort-by priority descending'), [3, 1, 4, 2]);
    assert.deepEqual(ids('select * from Order sort-by status limit 2 page 1'), [2, 3]);
    const r = runQuery(registry, 'select id, ship_to.city from Order where id <= 2', orders());
    assert.equal(r.total, 2);
    assert.deepEqual(r.rows, [
      { id: 1n, 'ship_to.city': null },
      { id: 2n, 'ship_to.city': 'Lyon' },
    ]);
  });

  test('aggregates, group-by and having', () => {
    const r = runQuery(
      registry,
      'select status, count(*), sum(priority), avg(priority), min(city), max(lines.qty), count(priority) from Order group-by status having count(*) >= 1 sort-by status',
      orders(),
    );
    assert.deepEqual(r.rows, [
      {
        status: 0,
        'count(*)': 1,
        'sum(priority)': 0,
        'avg(priority)': 0,
        'min(city)': '',
        'max(lines.qty)': null,
        'count(priority)': 1,
      },
      {
        status: 1,
        'count(*)': 1,
        'sum(priority)': 2,
        'avg(priority)': 2,
        'min(city)': 'Paris',
        'max(lines.qty)': 5,
        'count(priority)': 1,
      },
      {
        status: 2,
        'count(*)': 2,
        'sum(priority)': 7,
        'avg(priority)': 7,
        'min(city)': 'Lyon',
        'max(lines.qty)': 9,
        'count(priority)': 1,
      },
    ]);
    const all = runQuery(registry, 'select count(*), sum(created_ms) from Order where id > 100', orders());
    assert.deepEqual(all.rows, [{ 'count(*)': 0, 'sum(created_ms)': null }]);
    const top = runQuery(registry, 'select status, count(*) from Order group-by status having count(*) > 1', orders());
    assert.deepEqual(top.rows, [{ status: 2, 'count(*)': 2 }]);
    const sorted = runQuery(
      registry,
      'select city, count(*) from Order group-by city sort-by count(*) descending limit 1',
      orders(),
    );
    assert.equal(sorted.total, 4);
    assert.equal(sorted.rows.length, 1);
  });

  test('semantic errors point at the column', () => {
    const bad: [string, number][] = [
      ['select * from Nope', 15],
      ['select * from Order where nope = 1', 27],
      ['select * from Order where priority = abc', 36],
      ['select * from Order where id = 1.5', 30],
      ['select * from Order where gift = 2', 32],
      ['select * from Order where count(*) > 1', 27],
      ['select * from Order where city > nil', 32],
      ['select sum(city) from Order', 8],
      ['select min(ship_to) from Order', 8],
      ['select city, count(*) from Order', 8],
      ['select * from Order group-by city having count(*) > 1 sort-by status', 63],
      ['select * from Order having count(*) > 1', 15],
      ['select * from Order sort-by count(*)', 29],
      ['select * from Order where signature = 1', 37],
    ];
    for (const [text, column] of bad) {
      assert.throws(
        () => bindQuery(registry, text),
        (err: { code: string; data: { column: number } }) =>
          (err.code === 'L8_ERR_QUERY' || err.code === 'L8_ERR_UNKNOWN_TYPE') && err.data.column === column,
        text,
      );
    }
  });

  test('matches() and bound queries are reusable', () => {
    const bound = bindQuery(registry, "select * from Order where city = 'paris'");
    assert.ok(matches(bound, sampleOrder()) === false);
    assert.equal(runQuery(registry, bound, orders()).items.length, 2);
    assert.ok(matches(bindQuery(registry, 'select * from Order'), sampleOrder()));
  });
});

describe('SQL translation', () => {
  const sql = (text: string, dialect: 'sqlite' | 'postgres' = 'postgres') =>
    toSql(bindQuery(registry, text), { dialect });

  test('PostgreSQL text and parameters', () => {
    assert.deepEqual(
      sql(
        "select * from Order where city = 'Paris' and (priority > 2 or gift = true) sort-by ship_to.city descending limit 10 page 2",
      ),
      {
        sql: 'SELECT * FROM "order" WHERE (lower("city") = $1 AND ("priority" > $2 OR "gift" = $3)) ORDER BY "ship_to__city" DESC NULLS LAST, "id" ASC NULLS FIRST LIMIT $4 OFFSET $5',
        params: ['paris', 2, true, 10, 20],
      },
    );
    assert.deepEqual(sql("select * from Order where number = 'a_b*%' and city != 'X*' match-case"), {
      sql: 'SELECT * FROM "order" WHERE ("number" LIKE $1 ESCAPE \'\\\' AND NOT "city" LIKE $2 ESCAPE \'\\\') ORDER BY "id" ASC NULLS FIRST',
      params: ['a\\_b%\\%', 'X%'],
    });
    assert.deepEqual(
      sql(
        "select city, count(*), avg(priority) from Order where status in [paid, 3] and gift = nil group-by city having max(city) != 'z' sort-by count(*)",
      ),
      {
        sql: 'SELECT "city" AS "city", count(*) AS "count(*)", avg("priority") AS "avg(priority)" FROM "order" WHERE ("status" IN ($1, $2) AND ("gift" IS NULL OR "gift" = $3)) GROUP BY "city" HAVING lower(max("city")) <> $4 ORDER BY count(*) ASC NULLS FIRST, "city" ASC NULLS FIRST',
        params: [2, 3, false, 'z'],
      },
    );
    assert.deepEqual(sql("select id, city from Order where city not in ['a'] and priority != nil"), {
      sql: 'SELECT "id" AS "id", "city" AS "city" FROM "order" WHERE (lower("city") NOT IN ($1) AND NOT ("priority" IS NULL OR "priority" = $2)) ORDER BY "id" ASC NULLS FIRST',
      params: ['a', 0],
    });
  });

  test('SQLite text: ? parameters, booleans as 0/1, GLOB for match-case patterns', () => {
    assert.deepEqual(sql("select * from Order where gift = true and number = 'a[b]?*' match-case", 'sqlite'), {
      sql: 'SELECT * FROM "order" WHERE ("gift" = ? AND "number" GLOB ?) ORDER BY "id" ASC NULLS FIRST',
      params: [1, 'a[[]b][?]*'],
    });
    assert.equal(toSql(bindQuery(registry, 'select * from Address'), { table: 'addr' }).sql, 'SELECT * FROM "addr"');
  });

  test('lists, maps and whole messages do not translate', () => {
    for (const [text, column] of [
      ['select * from Order where lines.qty > 1', 27],
      ['select * from Order where tags<a> = 1', 27],
      ['select * from Order where ship_to = nil', 27],
    ] as const) {
      assert.throws(
        () => sql(text),
        (err: { code: string; data: { column: number } }) => err.code === 'L8_ERR_QUERY' && err.data.column === column,
        text,
      );
    }
  });

  test('table layout', () => {
    const cols = sqlColumns(OrderSchema, 'postgres');
    assert.deepEqual(
      cols.find((c) => c.path === 'ship_to.city'),
      { name: 'ship_to__city', path: 'ship_to.city', sqlType: 'TEXT' },
    );
    assert.equal(cols.find((c) => c.name === 'id')?.sqlType, 'BIGINT');
    assert.equal(cols.find((c) => c.name === 'gift')?.sqlType, 'BOOLEAN');
    assert.equal(cols.find((c) => c.name === 'signature')?.sqlType, 'BYTEA');
    assert.equal(cols.find((c) => c.name === 'discount')?.sqlType, 'DOUBLE PRECISION');
    assert.ok(createTableSql(OrderSchema).startsWith('CREATE TABLE IF NOT EXISTS "order" ("id" INTEGER'));
    const row = sqlRow(OrderSchema, sampleOrder());
    assert.equal(row.gift, 1);
    assert.equal(row.discount, null);
    assert.equal(row.ship_to__city, 'Paris');
    assert.ok(Buffer.isBuffer(row.signature));
  });
});
