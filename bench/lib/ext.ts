/** The extension of this build's modules: `.ts` when run from source with tsx, `.js` when compiled. */
export const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** `name` with this build's module extension. */
export function script(name: string): string {
  return `${name}${EXT}`;
}
