/** Deeper JSON than any AICommerce payload needs; it could only overflow the stack of code that recurses over it. */
export const MAX_DEPTH = 64;

/** Are no more than `levelsLeft` objects/arrays nested in `value`? Never recurses deeper than that itself. */
export function withinDepth(value: unknown, levelsLeft: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (levelsLeft === 0) return false;
  // Indexed and for…in loops: no array of children is allocated on this per-request path.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!withinDepth(value[i], levelsLeft - 1)) return false;
  } else {
    for (const key in value) if (!withinDepth((value as Record<string, unknown>)[key], levelsLeft - 1)) return false;
  }
  return true;
}
