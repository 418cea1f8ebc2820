import { l8error } from '@layer8/protocol';
import { bump } from '../fuzz/target-config.ts';
import { wallNow } from './agent-protocol.ts';
import type { StoreRead, StoreWrite } from './agent-store.ts';
import type { ChaosOverlay } from './overlay.ts';
import type { Agent } from './process-agent.ts';
import type { PlannedFault } from './schedule.ts';

/** When a `disk-full` fault filled, was first refused, freed, and was first acknowledged again (epoch ms). */
export interface DiskRun {
  readonly filledAt: number;
  readonly refusedAt: number | undefined;
  readonly freedAt: number;
  readonly backAt: number | undefined;
  readonly disk: DiskOutcome;
}

/** What a `disk-full` fault saw of the writes to the chaos store. */
export interface DiskOutcome {
  /** Writes acknowledged: before the disk filled, during the hold (if the store still had room), and after. */
  readonly acknowledged: number;
  /** Writes tried while the disk was full. */
  readonly heldWrites: number;
  /** Of those, refused by code (`L8_ERR_STORAGE`, reason `full`, is what the store must answer). */
  readonly refusedByCode: Readonly<Record<string, number>>;
  /** Acknowledged writes that were not read back after the disk was freed: must be 0. */
  readonly lostAcknowledged: number;
  /** Writes refused with `L8_ERR_STORAGE` that could be read afterwards: must be 0. */
  readonly phantoms: number;
  /** Bytes written to fill the file system. */
  readonly filledBytes: number;
}

/** Writes acknowledged before the disk fills: what must survive it. */
const BEFORE = 5;
/** Pause between writes while the disk is full and while it recovers, ms. */
const PACE_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A full disk for the chaos store's process: acknowledged writes first, then the store's file system
 * filled for the hold while a VNic of another host keeps writing over the overlay (each write must be
 * refused, `L8_ERR_STORAGE`), then freed; recovery is the time from the free to the first write
 * acknowledged again, and every acknowledged write is read back. Detection is the time from the fill to
 * the first refusal. @throws L8_ERR_UNAVAILABLE without a store, L8_ERR_STORAGE when the writes before fail
 */
export async function diskFull(
  f: PlannedFault,
  overlay: ChaosOverlay,
  waitMs: number,
  timeoutMs: number,
): Promise<DiskRun> {
  const disk = overlay.disk;
  const writer = overlay.hosts.at(-1)?.vnics[0];
  if (disk === undefined || writer === undefined || overlay.hosts[0]?.store === undefined)
    throw l8error('L8_ERR_UNAVAILABLE', 'disk-full needs the chaos store (l8 chaos run --disk-full, as root)');
  const w = new Writes(writer, `df${Math.round(wallNow())}`, timeoutMs);
  for (let i = 0; i < BEFORE; i++) {
    const r = await w.write('a');
    if (!r.ok) throw l8error('L8_ERR_STORAGE', `the store refused a write before the disk was full: ${r.code}`);
  }
  const filledAt = wallNow();
  const filledBytes = disk.fill();
  let refusedAt: number | undefined;
  while (wallNow() < filledAt + f.holdMs) {
    const r = await w.write('h');
    if (!r.ok && r.code === 'L8_ERR_STORAGE') refusedAt ??= wallNow();
    await sleep(PACE_MS);
  }
  disk.free();
  const freedAt = wallNow();
  const backAt = await w.untilAcknowledged(freedAt + waitMs);
  return { filledAt, refusedAt, freedAt, backAt, disk: await w.outcome(filledBytes) };
}

/**
 * The writes of one fault, by one VNic agent: their ids (`<tag>-<phase><n>`) and outcomes.
 *
 * Invariant: `#acked` holds every id acknowledged, `#refused` every id refused with `L8_ERR_STORAGE`.
 */
class Writes {
  readonly #agent: Agent;
  readonly #tag: string;
  readonly #timeoutMs: number;
  readonly #acked: string[] = [];
  readonly #refused: string[] = [];
  readonly #held: Record<string, number> = {};
  #heldWrites = 0;
  #n = 0;

  constructor(agent: Agent, tag: string, timeoutMs: number) {
    this.#agent = agent;
    this.#tag = tag;
    this.#timeoutMs = timeoutMs;
  }

  /** One write in `phase` (`a` before, `h` while full, `r` after). */
  async write(phase: 'a' | 'h' | 'r'): Promise<StoreWrite> {
    const id = `${this.#tag}-${phase}${this.#n++}`;
    const r = await this.#agent.call<StoreWrite>(
      'store.write',
      { id, timeoutMs: this.#timeoutMs },
      this.#timeoutMs + 5000,
    );
    if (r.ok) this.#acked.push(id);
    else if (r.code === 'L8_ERR_STORAGE') this.#refused.push(id);
    if (phase === 'h') {
      this.#heldWrites++;
      if (!r.ok) bump(this.#held, r.code);
    }
    return r;
  }

  /** Writes until one is acknowledged or `until` (epoch ms); resolves with when it was. */
  async untilAcknowledged(until: number): Promise<number | undefined> {
    while (wallNow() < until) {
      if ((await this.write('r')).ok) return wallNow();
      await sleep(PACE_MS);
    }
    return undefined;
  }

  /** Reads every acknowledged and every refused write back. */
  async outcome(filledBytes: number): Promise<DiskOutcome> {
    const ids = [...this.#acked, ...this.#refused];
    const read = await this.#agent.call<StoreRead>('store.read', { ids, timeoutMs: this.#timeoutMs }, 60_000);
    const found = new Set(read.found);
    return {
      acknowledged: this.#acked.length,
      heldWrites: this.#heldWrites,
      refusedByCode: { ...this.#held },
      lostAcknowledged: this.#acked.filter((id) => !found.has(id)).length,
      phantoms: this.#refused.filter((id) => found.has(id)).length,
      filledBytes,
    };
  }
}
