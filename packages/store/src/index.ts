/**
 * @layer8/store: one storage interface for model entities (put, get, delete, scan, L8QL queries, batches in
 * one transaction) over SQLite (the default), PostgreSQL (production) or memory (docs/storage.md). The
 * conformance suite every backend runs is `@layer8/store/conformance`.
 */
export { compareKeys } from './entity-codec.ts';
export { memoryStore } from './memory-store.ts';
export { type PostgresConfig, postgresStore } from './postgres-store.ts';
export { type SqliteStoreOptions, sqliteStore } from './sqlite-store.ts';
export type {
  ScanOptions,
  Store,
  StoreBackend,
  StoredItem,
  StoreOp,
  StoreOptions,
  StoreQueryResult,
} from './store.ts';
