// Package limits states, in one place, how big anything a caller sends may
// be: request bodies, numbers, names and keys, orders, campaign rules and
// the purchase events they read. The HTTP adapter and the domains enforce
// them at the edge, before any work is done; the README lists them.
//
// A limit protects the store from a request that costs more than it is
// worth (CPU, memory, stored bytes) and keeps stored records small enough
// for every storage (a DynamoDB item holds at most 400 KB).
package limits

import (
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Requests.
const (
	// BodyBytes is the largest request body; a larger one is a 413.
	BodyBytes = 1 << 20
	// PageSize is the most items one page of a list holds.
	PageSize = 500
)

// Names and keys a caller chooses.
const (
	// IDChars is the longest account id, product id, username, client,
	// campaign name, order id (of an award) or API key name; ids are made
	// of the characters of ID.
	IDChars = 128
	// IdempotencyKeyChars is the longest Idempotency-Key header.
	IdempotencyKeyChars = 255
	// ReferenceChars is the longest reference of a points transaction.
	ReferenceChars = 256
	// PasswordChars is the longest password (argon2 hashes all of it).
	PasswordChars = 1024
	// SearchChars is the longest product search.
	SearchChars = 200
	// ProductNameChars and DescriptionChars bound a product's texts;
	// ImageChars its image address.
	ProductNameChars = 200
	DescriptionChars = 5000
	ImageChars       = 2048
)

// Sign-ins.
const (
	// RefreshTokenChars is the longest refresh token looked up (the
	// store's own are 66 characters); a longer one is refused unread.
	RefreshTokenChars = 128
	// PreviousRefreshTokens is how many rotated-away refresh tokens a
	// session remembers (hashes, 64 bytes each), to tell their reuse,
	// which ends the session, from a wrong secret, which changes nothing.
	// With 15-minute access tokens that is a day of continuous use.
	PreviousRefreshTokens = 100
)

// ID matches an id: 1 to IDChars characters of A-Z a-z 0-9 . _ @ : -
var ID = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// IDRule says what ID accepts, for error messages.
const IDRule = "1 to 128 characters from A-Z a-z 0-9 . _ @ : -"

// PathName reports whether id may name something new that a path then
// reaches (/products/{id}, /users/{username}/wallet, /campaigns/{name}): an
// ID other than "." and "..". Those are dot segments, which clients and
// browsers resolve away (/products/.. is /), so the thing could never be
// reached. Only new names are checked: what is stored keeps its name.
func PathName(id string) bool { return ID.MatchString(id) && id != "." && id != ".." }

// Numbers. JSON numbers are kept as their text and parsed by Decimal, which
// refuses what would cost more to compute with than it is worth (a
// megabyte of digits, an exponent of ten million).
const (
	// NumberChars is the longest text of a number.
	NumberChars = 64
	// NumberDigits is the most significant digits of a number.
	NumberDigits = 40
	// NumberExponent bounds where a number's digits may be: from 10^40
	// down to 10^-40, so 1e40 and 1e-40 are the extremes.
	NumberExponent = 40
	// MaxMoney is the largest price, deposit or order total; money has at
	// most MoneyDecimals decimals.
	MaxMoney      = 1_000_000_000
	MoneyDecimals = 2
	// MaxPoints is the most points of one command (issue, redeem, award).
	MaxPoints = 1_000_000_000
)

// Orders.
const (
	// MaxTierMultiplier is the largest multiplier of a membership tier:
	// campaigns' bounds take $.customer.tier_multiplier to be at most it.
	MaxTierMultiplier = 10
	// TiersPerClient is the most membership tiers of a client.
	TiersPerClient = 10
	// ReturnsPerOrder is the most returns of one order (each takes at
	// least one unit), and ReturnReasonChars the longest reason of one.
	ReturnsPerOrder   = 20
	ReturnReasonChars = 500
	// BacktestDays is the longest window a backtest reads, BacktestPurchases
	// the most purchases it evaluates, BacktestTime the longest it runs.
	BacktestDays      = 90
	BacktestPurchases = 20_000
	BacktestTime      = 10 * time.Second
	// WebhookEndpointsPerClient is the most webhook endpoints of a client;
	// WebhookURLChars the longest address of one.
	WebhookEndpointsPerClient = 20
	WebhookURLChars           = 2048

	// ItemsPerOrder is the most lines of one purchase; QuantityPerLine the
	// most of one product in it.
	ItemsPerOrder   = 20
	QuantityPerLine = 100
)

// Campaigns and the purchase events their rules read.
const (
	// CampaignsPerClient is the most campaigns (not deleted) of a client.
	CampaignsPerClient = 50
	// RulesPerCampaign is the most rules of one campaign.
	RulesPerCampaign = 50
	// CampaignBytes is the largest campaign definition.
	CampaignBytes = 64 << 10
	// ConditionDepth is how deep conditions may nest.
	ConditionDepth = 8
	// PathChars is the longest JSONPath of a rule.
	PathChars = 256
	// PathDescents, PathMultiSelectors and PathUnionKeys bound what one
	// JSONPath may select: at most one recursive descent (..), two
	// selectors of several values in all (.., *, [?( )], [a,b], [a:b]),
	// and ten keys in a union. Each such selector multiplies the values
	// the rest of the path is run on; measured on the largest event
	// allowed, a second descent multiplied the time of the first by about
	// the event's depth, and a third by that again.
	PathDescents       = 1
	PathMultiSelectors = 2
	PathUnionKeys      = 10
	// MultiValuePaths is the most distinct paths selecting several values
	// that one campaign may read: at about 6 ms each on the largest event,
	// a client's 50 campaigns stay well within EvaluationTime.
	MultiValuePaths = 2
	// CampaignDescriptionChars is the longest public description of a
	// campaign (customers read it on their orders).
	CampaignDescriptionChars = 200
	// FormulaChars and FormulaNodes bound a formula.
	FormulaChars = 1000
	FormulaNodes = 200
	// EventBytes, EventDepth and EventValues bound a purchase event
	// (awards and simulations): its JSON size, how deep its objects and
	// arrays nest, and how many values it holds in all. A recursive
	// descent visits every value, so its time grows with EventValues: at
	// 2,000 values the costliest path allowed took 12 ms, at 1,000 about
	// 6 ms, and a client's campaigns may hold 100 such paths (see
	// MultiValuePaths). The store's own purchase event holds at most
	// about 110 values.
	EventBytes  = 32 << 10
	EventDepth  = 8
	EventValues = 1000
	// EvaluationTime is the longest a campaign evaluation may run; past
	// it the request fails instead of burning CPU.
	EvaluationTime = 2 * time.Second
	// IdempotencyRetention is how long an idempotency key (of /points,
	// an award, a deposit, a restock, a published message) is remembered
	// at least: a client retries within minutes, an operator retries a
	// parked purchase (which reuses its keys) within weeks. DynamoDB
	// forgets a key after it (its time to live); SQLite keeps keys. A key
	// repeated later is a new command.
	IdempotencyRetention = 90 * 24 * time.Hour
)

// Decimal parses a number's text exactly, refusing one longer than
// NumberChars, with more than NumberDigits significant digits, or with a
// digit beyond 10^±NumberExponent (1e40 and 1e-40 are the extremes). The
// limits hold for the value, however it is written: 1e40, 10e39 and
// 10000000000000000000000000000000000000000 are one number, accepted,
// and 1.0e-40 is 1e-40. The decimal returned has no trailing zeros in
// its coefficient, so what it accepts, written back (String), it
// accepts again.
func Decimal(text string) (decimal.Decimal, bool) {
	if len(text) == 0 || len(text) > NumberChars {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return decimal.Decimal{}, false
	}
	if d.IsZero() {
		return decimal.Zero, true // 0e-999999999 too: its exponent means nothing
	}
	coef, exp := d.Coefficient(), int64(d.Exponent())
	digits := coef.String()
	if d.Sign() < 0 {
		digits = digits[1:]
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	if n := int64(len(trimmed)); n > NumberDigits || exp < -NumberExponent || exp+n-1 > NumberExponent {
		return decimal.Decimal{}, false
	}
	coef.SetString(trimmed, 10)
	if d.Sign() < 0 {
		coef.Neg(coef)
	}
	return decimal.NewFromBigInt(coef, int32(exp)), true
}
