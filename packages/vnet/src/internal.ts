/** For tests only: not a stable API. */
export { isGone } from './link-membership.ts';
export { NodeIndex } from './node-index.ts';
export { changesRouting } from './route-tables.ts';
