// Shapes of the API's answers that the pages use. They come from the API's
// contract, adapters/httpapi/openapi.json: api-types.ts is generated from it
// before every build, test and type check (npm run api-types), so a page
// that reads what the API no longer writes fails to compile.
import type { components } from './api-types';

type Schemas = components['schemas'];

// Money arrives as a JSON number with its exact digits; an amount a person
// types is a decimal string. src/lib/money.ts reads either exactly.
export type Amount = Schemas['Money'] | string;

export type Product = Schemas['Product'];
export type Wallet = Schemas['Wallet'];
export type Stock = Schemas['Stock'];

export type Lot = Schemas['Lot'];
export type Balance = Schemas['Balance'];
export type Transaction = Schemas['Transaction'];
export type TransactionPage = Schemas['TransactionPage'];

export type SagaStep = Schemas['SagaStep'];
// AwardLine is one campaign rule's part of an order's points. Staff get how
// it was computed; a customer gets the campaign's public description.
export type AwardLine = Schemas['AwardLine'];
export type OrderLine = Schemas['OrderLine'];
export type Order = Schemas['Order'];
export type OrderPage = Schemas['OrderPage'];

// A return of some of an order's lines (or, with no lines, of all that is
// left: a cancellation), and how it went.
export type OrderReturn = Schemas['OrderReturn'];
export type ReturnRequest = Schemas['ReturnRequest'];
export type ReturnLine = Schemas['ReturnLine'];

// CampaignWarning is what may be a mistake in a campaign, at its field: a
// path the store's purchase event does not have.
export type CampaignWarning = Schemas['FieldError'];
export type Campaign = Schemas['Campaign'];
export type CampaignDefinition = Schemas['CampaignDefinition'];
export type CampaignPage = Schemas['CampaignList'];
export type Revision = Schemas['Revision'];
export type RevisionPage = Schemas['RevisionList'];
export type Validation = Schemas['Validation'];
export type Evaluation = Schemas['Evaluation'];
export type CampaignAwards = Schemas['CampaignAwards'];
export type AwardDay = CampaignAwards['items'][number];

// PriceChanged is the 409 of a purchase whose total is not the one the
// customer saw: today's lines and total.
export type PriceChanged = Schemas['Problem'] & Required<Pick<Schemas['Problem'], 'total' | 'lines'>>;

export type Settings = Schemas['Settings'];

// Membership tiers: a client's (the back office edits them) and a member's
// standing against them (the points center shows it).
export type TierLevel = Schemas['TierLevel'];
export type Tiers = Schemas['Tiers'];
export type NewTiers = Schemas['NewTiers'];
export type Standing = Schemas['Standing'];

// A backtest: what a new campaign, or a change to a saved one, would have
// given the client's completed purchases of the last days, beside what
// they were given.
export type Backtest = Schemas['Backtest'];
export type BacktestResult = Schemas['BacktestResult'];
export type BacktestPoints = Schemas['BacktestPoints'];
export type BacktestDay = BacktestResult['per_day'][number];
export type BacktestCustomer = BacktestResult['customers'][number];

// Webhooks: the endpoints a client's events are sent to (signed with a
// secret shown once), and the log of what was sent.
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type NewWebhookEndpoint = Schemas['NewWebhookEndpoint'];
export type WebhookEndpointList = Schemas['WebhookEndpointList'];
export type WebhookEvent = NewWebhookEndpoint['events'][number];
// The contract says a payload is an object ({id, type, occurred_at, client,
// data}) without listing its members, which the generator reads as an
// object with none: it is the exact body sent, whatever its event's data.
export type WebhookDelivery = Omit<Schemas['WebhookDelivery'], 'payload'> & { payload: Record<string, unknown> };
export type WebhookDeliveryPage = Omit<Schemas['WebhookDeliveryPage'], 'items'> & { items: WebhookDelivery[] };
