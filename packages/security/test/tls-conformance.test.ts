import { runProviderConformance } from './conformance.ts';
import { makeOverlays, type Overlays, tlsPair } from './fixtures.ts';

let p256: Promise<Overlays> | undefined;
let ed25519: Promise<Overlays> | undefined;
const overlaysP256 = (): Promise<Overlays> => (p256 ??= makeOverlays('P-256'));
const overlaysEd25519 = (): Promise<Overlays> => (ed25519 ??= makeOverlays('Ed25519'));

runProviderConformance('tls over tcp (P-256)', async () => tlsPair(await overlaysP256(), 'tcp'));
runProviderConformance('tls over unix (P-256)', async () => tlsPair(await overlaysP256(), 'unix'));
runProviderConformance('tls over tcp (Ed25519)', async () => tlsPair(await overlaysEd25519(), 'tcp'));
runProviderConformance('tls over unix (Ed25519)', async () => tlsPair(await overlaysEd25519(), 'unix'));
