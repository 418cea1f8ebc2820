/** For sibling packages' tests only: not a stable API. */
export { ERROR_CODES } from './error-codes.ts';
