// The /points load mix of seed 003: each virtual user reads its balance,
// issues 100 points ten times, reads, redeems 250, reads, with a
// millisecond of think time between calls. The same script runs against
// the store (an API key) and the limit baseline. The overload script
// makes the same calls one at a time through mixCall.
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

// mixLength is the calls in one round of the mix.
export const mixLength = 14;

// mixCall makes call n (0 to mixLength-1) of an account's round-th round
// and returns the response: 0, 11 and 13 read, 1 to 10 issue, 12 redeems.
export function mixCall(account, round, n) {
  if (n === 0 || n === 11 || n === 13) {
    const r = http.get(`${base}/points?account_id=${account}`, headers());
    check(r, { read: (r) => r.status === 200 });
    return r;
  }
  if (n <= 10) {
    const r = http.post(`${base}/points`, JSON.stringify({ account_id: account, amount: 100 }), headers(`${account}-${round}-issue-${n - 1}`));
    check(r, { issued: (r) => r.status === 200 || r.status === 201 });
    return r;
  }
  const r = http.del(`${base}/points`, JSON.stringify({ account_id: account, amount: 250 }), headers(`${account}-${round}-redeem`));
  check(r, { redeemed: (r) => r.status === 200 || r.status === 201 });
  return r;
}

export default function () {
  const account = `load-${__VU}`;
  for (let n = 0; n < mixLength; n++) {
    if (n > 0) think();
    mixCall(account, __ITER, n);
  }
}
