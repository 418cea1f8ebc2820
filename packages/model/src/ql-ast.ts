/** The syntax tree of an L8QL query, as the parser makes it and the printer reads it. */

/** Aggregate functions. */
export const AggregateFn = { COUNT: 'count', SUM: 'sum', AVG: 'avg', MIN: 'min', MAX: 'max' } as const;

/** A value of {@link AggregateFn}. */
export type AggregateFn = (typeof AggregateFn)[keyof typeof AggregateFn];

/** Comparators. */
export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A property path as written; `column` (1-based) is where it starts. */
export interface PathRef {
  readonly kind: 'path';
  readonly path: string;
  readonly column: number;
}

/** An aggregate such as `count(*)` or `sum(lines.qty)`; `arg` is `*` or a path. */
export interface AggregateRef {
  readonly kind: 'aggregate';
  readonly fn: AggregateFn;
  readonly arg: string;
  readonly column: number;
}

/** What a select item, a comparison or a sort refers to. */
export type Operand = PathRef | AggregateRef;

/** A literal value. Bare words become strings; `true`, `false` and `nil` are their own kinds. */
export type Literal =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'nil' };

/** A boolean expression. `and` and `or` have two or more operands. */
export type Expr =
  | { readonly kind: 'and'; readonly operands: readonly Expr[] }
  | { readonly kind: 'or'; readonly operands: readonly Expr[] }
  | {
      readonly kind: 'compare';
      readonly op: Comparator;
      readonly left: Operand;
      readonly right: Literal;
      readonly column: number;
    }
  | {
      readonly kind: 'in';
      readonly negated: boolean;
      readonly left: Operand;
      readonly values: readonly Literal[];
      readonly column: number;
    };

/** A parsed query. */
export interface Query {
  /** `*`, or the selected paths and aggregates. */
  readonly select: '*' | readonly Operand[];
  readonly from: string;
  readonly fromColumn: number;
  readonly where?: Expr;
  readonly groupBy: readonly PathRef[];
  readonly having?: Expr;
  readonly sortBy?: Operand;
  readonly descending: boolean;
  /** Rows per page (≥ 1). */
  readonly limit?: number;
  /** 0-based page; needs `limit`. */
  readonly page?: number;
  /** String comparisons are case-sensitive only with `match-case`. */
  readonly matchCase: boolean;
}
