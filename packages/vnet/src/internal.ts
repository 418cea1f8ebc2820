/** For tests only: not a stable API. */
export { NodeIndex } from './node-index.ts';
