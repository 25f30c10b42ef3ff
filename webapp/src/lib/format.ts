// How the pages write dates, times and counts.
export const when = (iso: string) => new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
export const day = (iso: string) => new Date(iso).toLocaleDateString('en-US', { dateStyle: 'medium' });

// A calendar date the API writes as YYYY-MM-DD is that day wherever the
// reader is: read as UTC, it does not slip to the day before west of
// Greenwich.
export const date = (ymd: string) => new Date(`${ymd}T00:00:00Z`).toLocaleDateString('en-US', { dateStyle: 'medium', timeZone: 'UTC' });
export const shortDate = (ymd: string) => new Date(`${ymd}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

export const count = (n: number) => n.toLocaleString('en-US');
