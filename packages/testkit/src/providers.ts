import { DevProvider } from '@layer8/security';

/** The passphrase test overlays share. */
export const DEV_PASSPHRASE = 'layer8-test-overlay';

/** A dev provider for tests, with its warning silenced (tests assert the warning where it matters). */
export function devProvider(passphrase = DEV_PASSPHRASE): DevProvider {
  return new DevProvider({ passphrase, warn: () => undefined });
}
