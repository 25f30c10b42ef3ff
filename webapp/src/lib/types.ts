// Shapes of the API's answers that the pages use. Money arrives as a JSON
// number with at most a few decimals; src/lib/money.ts reads its digits exactly.
export type Amount = number | string;

export type Product = {
  id: string;
  name: string;
  description?: string;
  price: Amount;
  stock: number;
  image?: string;
  version?: number;
};

export type Wallet = { username: string; balance: Amount };

export type Lot = {
  issued_date: string;
  balance: number;
  issued: number;
  expired: number;
  expires_on: string;
  status: 'active' | 'expired';
};

export type Balance = {
  account_id: string;
  balance: number;
  balance_entries: Lot[];
  next_cursor?: string;
  expiring_soon: { days: number; points: number };
};

export type Transaction = {
  id: string;
  seq: number;
  transaction_type: string;
  amount: number;
  date_time: string;
  expires_on?: string;
  reference?: string;
  unrecovered?: number;
};

export type SagaStep = { step: string; status: string; at: string; error?: string; cause?: string };

// AwardLine is one campaign rule's part of an order's points. Staff get how
// it was computed; a customer gets the campaign's public description.
export type AwardLine = {
  campaign_name?: string;
  description?: string;
  campaign_version?: number;
  rule_index?: number;
  inputs?: Record<string, unknown>;
  formula?: string;
  raw?: string | number;
  points: number;
  note?: string;
};

export type OrderLine = { product_id: string; name: string; quantity: number; unit_price: Amount; amount: Amount };

export type Order = {
  id: string;
  user_id: string;
  lines: OrderLine[];
  total: Amount;
  // What the order asks for: points to pay with, what they are worth, the
  // money part.
  points_requested: number;
  points_value: Amount;
  amount_due: Amount;
  // What happened: only a completed order spent, was charged and earned.
  points_redeemed: number;
  charged: Amount;
  points_awarded: number;
  award?: AwardLine[];
  status: 'pending' | 'completed' | 'failed' | 'needs_attention';
  failure_code?: string;
  failure_reason?: string;
  attempt: number;
  created_at: string;
  updated_at: string;
  saga?: SagaStep[];
};

// CampaignWarning is what may be a mistake in a campaign, at its field: a
// path the store's purchase event does not have.
export type CampaignWarning = { field: string; message: string; position?: number };

export type Campaign = {
  client: string;
  campaign_name: string;
  description?: string;
  status: 'active' | 'paused';
  starts_at?: string;
  ends_at?: string;
  priority?: number;
  rounding?: string;
  max_points_per_purchase?: number;
  budget?: number;
  rules: unknown;
  version: number;
  updated_at?: string;
  updated_by?: string;
  warnings?: CampaignWarning[];
};

// PriceChanged is the 409 of a purchase whose total is not the one the
// customer saw: today's lines and total.
export type PriceChanged = { type: string; total: Amount; lines: OrderLine[] };

export type Settings = { point_value: Amount; point_ttl_days: number };
