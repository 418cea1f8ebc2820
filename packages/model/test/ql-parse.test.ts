import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Expr, type Literal, parseQuery, printQuery, type Query, queryHash } from '../src/index.ts';
import { tokenize } from '../src/ql-lexer.ts';

describe('L8QL tokenizer and parser', () => {
  test('a full query', () => {
    const q = parseQuery(
      "SELECT city, count(*), sum(lines.qty) FROM Order WHERE (status = 'paid' OR gift = true) AND lines<0>.qty >= -2 " +
        'and tags<color> in [red, "blue"] and ship_to.city not in (nil) GROUP-BY city HAVING count(*) > 1 ' +
        'SORT-BY city DESCENDING LIMIT 10 PAGE 2 MATCH-CASE',
    );
    assert.equal(q.from, 'Order');
    assert.equal(q.select.length, 3);
    assert.equal(q.where?.kind, 'and');
    assert.deepEqual(
      q.groupBy.map((g) => g.path),
      ['city'],
    );
    assert.equal(q.having?.kind, 'compare');
    assert.equal(q.sortBy?.kind, 'path');
    assert.deepEqual([q.descending, q.limit, q.page, q.matchCase], [true, 10, 2, true]);
  });

  test('values and fields may contain keywords', () => {
    const q = parseQuery("select * from order where name='homepage' and from = 'select where' and limit=3 and page<2");
    const where = q.where as Expr & { kind: 'and' };
    assert.equal(where.operands.length, 4);
    assert.deepEqual((where.operands[0] as { right: Literal }).right, { kind: 'string', value: 'homepage' });
    assert.equal((where.operands[1] as { left: { path: string } }).left.path, 'from');
    assert.equal((where.operands[3] as { op: string }).op, '<');
  });

  test('a < right after a name is a key only when > closes it before a space', () => {
    assert.deepEqual(
      tokenize('qty<5 and lines<3>.qty>=1 x<a\\ b>').map((t) => t.text),
      ['qty', '<', '5', 'and', 'lines<3>.qty', '>=', '1', 'x<a\\ b>', ''],
    );
  });

  test('syntax errors are L8_ERR_QUERY with the column', () => {
    const cases: [string, number][] = [
      ['select', 7],
      ['select * form Order', 10],
      ['select * from Order where', 26],
      ['select * from Order where a = ', 31],
      ["select * from Order where a = 'x", 31],
      ['select * from Order where a ~ 1', 29],
      ['select * from Order where a in 1', 32],
      ['select * from Order where (a = 1', 33],
      ['select * from Order limit 0', 27],
      ['select * from Order limit x', 27],
      ['select * from Order page 2', 15],
      ['select * from Order limit 1 limit 2', 29],
      ['select sum(*) from Order', 8],
      ['select * from Order where a = 1 sortby a', 33],
      ['select * from Order where a not 1', 33],
      ['select * from Order where a in [1 2]', 35],
      ['select * from Order where a = (', 31],
    ];
    for (const [text, column] of cases) {
      assert.throws(
        () => parseQuery(text),
        (err: { code: string; data: { column: number } }) => err.code === 'L8_ERR_QUERY' && err.data.column === column,
        text,
      );
    }
  });
});

const pathArb = fc.constantFrom('city', 'lines<0>.qty', 'tags<a\\>b>', 'ship_to.city', 'from', 'limit', 'x-y');
const literalArb: fc.Arbitrary<Literal> = fc.oneof(
  fc.string().map((value) => ({ kind: 'string' as const, value })),
  fc.constantFrom('0', '-1', '2.5', '1e3', '12345678901234567890').map((text) => ({ kind: 'number' as const, text })),
  fc.boolean().map((value) => ({ kind: 'bool' as const, value })),
  fc.constant({ kind: 'nil' as const }),
);
const leafArb: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({
    kind: fc.constant('compare' as const),
    op: fc.constantFrom('=', '!=', '<', '<=', '>', '>=' as const),
    left: pathArb.map((path) => ({ kind: 'path' as const, path, column: 0 })),
    right: literalArb,
    column: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('in' as const),
    negated: fc.boolean(),
    left: pathArb.map((path) => ({ kind: 'path' as const, path, column: 0 })),
    values: fc.array(literalArb, { minLength: 1, maxLength: 3 }),
    column: fc.constant(0),
  }),
);
const { expr: exprArb } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({
      kind: fc.constantFrom('and' as const, 'or' as const),
      operands: fc.array(tie('expr'), { minLength: 2, maxLength: 3 }),
    }),
  ),
}));
const queryArb: fc.Arbitrary<Query> = fc.record(
  {
    select: fc.constant('*' as const),
    from: fc.constantFrom('Order', 'layer8.demo.v1.Order'),
    fromColumn: fc.constant(0),
    where: exprArb,
    groupBy: fc.constant([]),
    sortBy: pathArb.map((path) => ({ kind: 'path' as const, path, column: 0 })),
    descending: fc.boolean(),
    limit: fc.integer({ min: 1, max: 100 }),
    matchCase: fc.boolean(),
  },
  { requiredKeys: ['select', 'from', 'fromColumn', 'groupBy', 'descending', 'matchCase'] },
);

describe('L8QL printing and hashing', () => {
  test('parse → print → parse is stable', () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        const text = printQuery(q);
        const again = printQuery(parseQuery(text));
        assert.equal(again, text);
        assert.equal(printQuery(parseQuery(again)), again);
      }),
      { numRuns: 300 },
    );
  });

  test('hash is stable across spelling and sensitive to meaning', () => {
    const h = (t: string) => queryHash(parseQuery(t));
    assert.equal(h("select * from Order where City = 'Paris'"), h("SELECT  *  FROM order WHERE city='paris'"));
    assert.notEqual(
      h("select * from Order where city = 'Paris' match-case"),
      h("select * from Order where city = 'paris' match-case"),
    );
    assert.notEqual(h('select * from Order limit 1'), h('select * from Order limit 2'));
    assert.match(h('select * from Order'), /^[0-9a-f]{16}$/);
  });

  test('printing keeps precedence with parentheses', () => {
    const text = printQuery(
      parseQuery(
        "select a, count(*) from T where (a=1 or b='x\\'y') and c in (1,2) group-by a having count(*)>1 sort-by count(*) ascending limit 5 page 1",
      ),
    );
    assert.equal(
      text,
      "select a, count(*) from T where (a = 1 or b = 'x\\'y') and c in [1, 2] group-by a having count(*) > 1 sort-by count(*) limit 5 page 1",
    );
  });
});
