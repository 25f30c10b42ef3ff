// Purchases: each virtual user is its own buyer and buys one unicorn at a
// time with no think time. Most buy a well-stocked unicorn; one purchase
// in five asks for a scarce one (most of those end OutOfStock, a business
// failure); one in four pays partly with points. Completed and business-
// failed purchases are counted apart from errors. The soak and the
// overload scripts buy through prepare and buy.
import http from 'k6/http';
import { Counter } from 'k6/metrics';

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '20s',
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
  setupTimeout: '120s',
};

const base = __ENV.BASE;
const completed = new Counter('purchases_completed');
const refused = new Counter('purchases_business_failures');
const unexpected = new Counter('purchases_unexpected');

export function as(token, key) {
  const h = { 'Content-Type': 'application/json' };
  if (token) h.Authorization = `Bearer ${token}`;
  if (key) h['Idempotency-Key'] = key;
  return { headers: h };
}

// prepare makes buyers buyer-1 to buyer-<buyers>, their money and points,
// and the unicorns, as an admin would, and returns the admin's token; the
// baseline needs none of it. Users are made one at a time (each hashes a
// password, which takes memory), deposits and points eight at a time.
export function prepare(buyers) {
  if (__ENV.MODE === 'baseline') return { token: '' };
  const signIn = http.post(`${base}/auth/token`, JSON.stringify({ username: 'admin', password: __ENV.ADMIN_PASSWORD }), as());
  if (signIn.status !== 200) throw new Error(`sign in: ${signIn.status} ${signIn.body}`);
  const token = signIn.json('access_token');
  const must = (rs, what) => {
    for (const r of rs) {
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.body}`);
    }
  };
  must([http.post(`${base}/products`, JSON.stringify({ id: 'load-plenty', name: 'Load Plenty', description: 'for the load test', image: '/images/golden-mane.svg', price: 10, stock: 10000000 }), as(token))], 'product');
  must([http.post(`${base}/products`, JSON.stringify({ id: 'load-scarce', name: 'Load Scarce', description: 'for the load test', image: '/images/cloud-strider.svg', price: 10, stock: 5 }), as(token))], 'product');
  for (let first = 1; first <= buyers; first += 8) {
    const users = [];
    for (let vu = first; vu < first + 8 && vu <= buyers; vu++) users.push(`buyer-${vu}`);
    for (const user of users) {
      must([http.post(`${base}/users`, JSON.stringify({ username: user, role: 'customer', password: 'load-test-password' }), as(token))], 'user');
    }
    must(http.batch(users.map((user) => ['POST', `${base}/users/${user}/wallet/deposits`, JSON.stringify({ amount: 1000000 }), as(token, `load-deposit-${user}`)])), 'deposit');
    must(http.batch(users.map((user) => ['POST', `${base}/points`, JSON.stringify({ account_id: user, amount: 1000000 }), as(token, `load-points-${user}`)])), 'points');
  }
  return { token };
}

export function setup() {
  return prepare(options.vus);
}

// buy makes the iter-th purchase of a buyer under an idempotency key and
// counts how it ended; it returns the response.
export function buy(data, buyer, key, iter) {
  const scarce = iter % 5 === 4;
  const body = { user_id: buyer, items: [{ product_id: scarce ? 'load-scarce' : 'load-plenty', quantity: 1 }] };
  if (iter % 4 === 1) body.redeem_points = 100;
  const r = http.post(`${base}/purchase`, JSON.stringify(body), as(data.token, key));
  if (__ENV.MODE === 'baseline') {
    if (r.status === 201) completed.add(1);
    else unexpected.add(1);
    return r;
  }
  const status = r.status === 201 ? r.json('status') : '';
  if (status === 'completed') completed.add(1);
  else if (status === 'failed') refused.add(1);
  else unexpected.add(1);
  return r;
}

export default function (data) {
  const buyer = `buyer-${__VU}`;
  buy(data, buyer, `${buyer}-${__ITER}`, __ITER);
}
