// Overload: purchases, and calls of the points mix, each offered at a
// ramping arrival rate through the stages of LEVELS (requests a second,
// the same for both streams), each reached in RAMP seconds and held for
// HOLD. A request is tagged with the stage it began in (stage: its index,
// or "ramp" between two), so that the summary has each stage's answers:
// admitted (2xx), shed (503), throttled (429), and the latency of the
// admitted. A refusal must say when to come back (Retry-After).
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { prepare, buy } from './purchases.js';
import { mixCall, mixLength } from './points-mix.js';

const levels = (__ENV.LEVELS || '50,100,150').split(',').map(Number);
const hold = Number(__ENV.HOLD || 10);
const ramp = Number(__ENV.RAMP || 2);
const maxVUs = Number(__ENV.MAX_VUS || 300);
const streams = ['purchases', 'points'];
const noRetryAfter = new Counter('refusals_without_retry_after');

function stream(fn) {
  const stages = [];
  for (const l of levels) stages.push({ target: l, duration: `${ramp}s` }, { target: l, duration: `${hold}s` });
  return {
    executor: 'ramping-arrival-rate', exec: fn, startRate: levels[0], timeUnit: '1s',
    preAllocatedVUs: maxVUs, maxVUs, stages,
  };
}

// Submetrics exist in the summary only for thresholds: these always pass.
const thresholds = {};
for (let k = 0; k < levels.length; k++) {
  for (const s of streams) {
    const t = `stage:${k},scenario:${s}`;
    thresholds[`http_reqs{${t}}`] = ['count>=0'];
    thresholds[`http_reqs{${t},expected_response:true}`] = ['count>=0'];
    thresholds[`http_reqs{${t},status:503}`] = ['count>=0'];
    thresholds[`http_reqs{${t},status:429}`] = ['count>=0'];
    thresholds[`http_req_duration{${t},expected_response:true}`] = ['p(99)>=0'];
  }
}

export const options = {
  scenarios: { purchases: stream('purchases'), points: stream('points') },
  thresholds,
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
  setupTimeout: '300s',
};

function tag() {
  const span = (ramp + hold) * 1000;
  const elapsed = Date.now() - exec.scenario.startTime;
  const k = Math.floor(elapsed / span);
  exec.vu.metrics.tags.stage = k >= levels.length ? 'end' : elapsed - k * span < ramp * 1000 ? 'ramp' : String(k);
}

function refused(r) {
  if ((r.status === 503 || r.status === 429) && !r.headers['Retry-After']) noRetryAfter.add(1);
}

// A buyer for every virtual user there may be.
export function setup() {
  return prepare(2 * maxVUs);
}

export function purchases(data) {
  tag();
  refused(buy(data, `buyer-${__VU}`, `overload-${__VU}-${__ITER}`, __ITER));
}

let calls = 0; // this virtual user's, in its account's rounds of the mix

export function points() {
  tag();
  refused(mixCall(`overload-${__VU}`, Math.floor(calls / mixLength), calls % mixLength));
  calls++;
}
