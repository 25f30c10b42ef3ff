// GET /points on one heavy account: ten years of daily lots, about
// 100,000 events (the runner seeds it before the store starts).
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: Number(__ENV.VUS || 4),
  duration: __ENV.DURATION || '20s',
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const r = http.get(`${__ENV.BASE}/points?account_id=${__ENV.ACCOUNT}`, { headers: { 'X-Api-Key': __ENV.API_KEY || '' } });
  check(r, { read: (r) => r.status === 200 });
}
