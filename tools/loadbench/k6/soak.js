// The soak: a steady mix at a moderate rate for a long while, each stream
// at a constant arrival rate (per second: PURCHASES purchases, POINTS
// rounds of the points mix, BROWSE visits to the catalog and a buyer's
// orders, DEPOSITS deposits into wallets). Every request is tagged with
// its window (w): the WINDOW seconds since T0 (milliseconds since the
// epoch, when the runner started k6) it began in, so that the summary has
// the p99 latency, the requests and the errors of each window.
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import pointsRound from './points-mix.js';
import { prepare, buy, as } from './purchases.js';

const base = __ENV.BASE;
const seconds = Number(__ENV.SECONDS || 600);
const window = Number(__ENV.WINDOW || 10);
const t0 = Number(__ENV.T0 || Date.now());
const buyers = 32;

function stream(fn, rate, vus) {
  return {
    executor: 'constant-arrival-rate', exec: fn, rate: Math.max(1, Math.round(rate * 10)), timeUnit: '10s',
    duration: `${seconds}s`, preAllocatedVUs: vus, maxVUs: 5 * vus,
  };
}

// Submetrics exist in the summary only for thresholds: these always pass.
const thresholds = {};
for (let w = 0; w <= Math.ceil((seconds + 120) / window); w++) {
  thresholds[`http_req_duration{w:${w}}`] = ['p(99)>=0'];
  thresholds[`http_reqs{w:${w}}`] = ['count>=0'];
  thresholds[`http_reqs{w:${w},expected_response:false}`] = ['count>=0'];
  thresholds[`purchases_unexpected{w:${w}}`] = ['count>=0'];
}

export const options = {
  scenarios: {
    purchases: stream('purchases', Number(__ENV.PURCHASES || 30), 20),
    points: stream('points', Number(__ENV.POINTS || 30), 20),
    browse: stream('browse', Number(__ENV.BROWSE || 37.5), 8),
    deposits: stream('deposits', Number(__ENV.DEPOSITS || 3.75), 4),
  },
  thresholds,
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
  setupTimeout: '120s',
};

function tag() {
  exec.vu.metrics.tags.w = String(Math.floor((Date.now() - t0) / (window * 1000)));
}

const buyer = () => `buyer-${((__VU - 1) % buyers) + 1}`;

export function setup() {
  return prepare(buyers);
}

export function purchases(data) {
  tag();
  buy(data, buyer(), `soak-${__VU}-${__ITER}`, __ITER);
}

export function points() {
  tag();
  pointsRound();
}

export function browse(data) {
  tag();
  check(http.get(`${base}/products`), { products: (r) => r.status === 200 });
  check(http.get(`${base}/products/load-plenty`), { product: (r) => r.status === 200 });
  check(http.get(`${base}/orders?user_id=${buyer()}&limit=20`, as(data.token)), { orders: (r) => r.status === 200 });
}

export function deposits(data) {
  tag();
  const r = http.post(`${base}/users/${buyer()}/wallet/deposits`, JSON.stringify({ amount: 1 }), as(data.token, `soak-deposit-${__VU}-${__ITER}`));
  check(r, { deposited: (r) => r.status === 201 });
}
