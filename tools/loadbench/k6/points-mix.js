// The /points load mix of seed 003: each virtual user reads its balance,
// issues 100 points ten times, reads, redeems 250, reads, with a
// millisecond of think time between calls. The same script runs against
// the store (an API key) and the limit baseline.
import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: Number(__ENV.VUS || 50),
  duration: __ENV.DURATION || '20s',
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

const base = __ENV.BASE;
const think = () => sleep(0.001);

function headers(key) {
  const h = { 'Content-Type': 'application/json', 'X-Api-Key': __ENV.API_KEY || '' };
  if (key) h['Idempotency-Key'] = key;
  return { headers: h };
}

export default function () {
  const account = `load-${__VU}`;
  const read = () => check(http.get(`${base}/points?account_id=${account}`, headers()), { read: (r) => r.status === 200 });
  read();
  think();
  for (let i = 0; i < 10; i++) {
    const r = http.post(`${base}/points`, JSON.stringify({ account_id: account, amount: 100 }), headers(`${account}-${__ITER}-issue-${i}`));
    check(r, { issued: (r) => r.status === 200 || r.status === 201 });
    think();
  }
  read();
  think();
  const r = http.del(`${base}/points`, JSON.stringify({ account_id: account, amount: 250 }), headers(`${account}-${__ITER}-redeem`));
  check(r, { redeemed: (r) => r.status === 200 || r.status === 201 });
  think();
  read();
}
