// The order in which user ids are listed everywhere (CLI output, changes): numeric ids by value first,
// then other ids by code unit. Pure string logic; locale-independent so output is stable.

/** Numeric ids (digits, no leading zero, at most 15 digits) by value, before all others; others by code unit. */
export function compareIds(a: string, b: string): number {
  const ka = numericIdKey(a);
  const kb = numericIdKey(b);
  const na = !Number.isNaN(ka);
  const nb = !Number.isNaN(kb);
  if (na && nb) return ka - kb;
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The number an id sorts by under compareIds, or NaN when it sorts as text. */
export function numericIdKey(id: string): number {
  if (id.length === 0 || id.length > 15 || (id.length > 1 && id.charCodeAt(0) === 48)) return NaN;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  return Number(id);
}
