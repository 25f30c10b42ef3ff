// How the pages write dates, times and counts.
export const when = (iso: string) => new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
export const day = (iso: string) => new Date(iso).toLocaleDateString('en-US', { dateStyle: 'medium' });

// A calendar date the API writes as YYYY-MM-DD is that day wherever the
// reader is: read as UTC, it does not slip to the day before west of
// Greenwich.
export const date = (ymd: string) => new Date(`${ymd}T00:00:00Z`).toLocaleDateString('en-US', { dateStyle: 'medium', timeZone: 'UTC' });
export const shortDate = (ymd: string) => new Date(`${ymd}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

export const count = (n: number) => n.toLocaleString('en-US');

// orderNumber is how people see an order: "#" and the last eight
// characters of its id, in capitals, in two groups ("#3F9A-01C2"). An id is
// a hash of the purchase's key or a time-ordered random id: the last
// characters are the random ones (the first of a time-ordered id repeat
// for orders placed within a minute). The full id stays in the page's
// address and in the API.
export function orderNumber(id: string): string {
  const core = id.replace(/^o-/, '').replace(/[^0-9a-zA-Z]/g, '').slice(-8).toUpperCase();
  return core.length === 8 ? `#${core.slice(0, 4)}-${core.slice(4)}` : `#${core}`;
}

// duration writes a wait in the largest unit that keeps it readable:
// "a few seconds", "45 seconds", "15 minutes", "2 hours".
export function duration(seconds: number): string {
  if (seconds < 5) return 'a few seconds';
  if (seconds < 90) return `${Math.round(seconds)} seconds`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}
