/** For tests only: not a stable API. */
export { isGone } from './link-membership.ts';
export { TICKS_PER_DEADLINE } from './liveness.ts';
export { NodeIndex } from './node-index.ts';
export { RING_NEIGHBOURS, ringOf } from './peer-watch.ts';
export { changesRouting } from './route-tables.ts';
