package compose

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/limits"
)

// Config is everything a deployment chooses. Each field has a flag and an
// environment variable; the flag wins.
type Config struct {
	Addr           string
	DBPath         string
	TTLDays        int
	SweepEvery     time.Duration
	LogLevel       slog.Level
	LogFormat      string
	PointValue     decimal.Decimal
	PurchaseWait   time.Duration
	ReservationTTL time.Duration
	SagaWorkers    int
	// Load held: requests a second per client and per caller (0: no
	// limit), requests handled at once, purchases under way at once.
	ClientRate    float64
	CallerRate    float64
	MaxInFlight   int
	MaxSagas      int
	Demo          bool
	DemoPassword  string
	TokenTTL      time.Duration
	TokenIssuer   string
	TokenAudience string
	OIDCIssuer    string
	OIDCAudience  string
	OIDCJWKSURL   string
	CORSOrigins   []string
	WebAppDir     string
	StoreClient   string
	PointsCeiling campaign.Ceiling
	// The storage: "sqlite" (DBPath) or "dynamodb" (tables named
	// TablePrefix + ledger, balances, ...; an endpoint for DynamoDB Local).
	Store            string
	DynamoDBEndpoint string
	TablePrefix      string
	// DebugAddr, when set, serves Go's profiles and the metrics on a
	// listener of their own.
	DebugAddr    string
	CreateTables bool
	// StateMachineARN is the purchase saga's Standard state machine (the
	// Lambda functions' shape); empty on one machine, where the local
	// executor runs the saga.
	StateMachineARN string
	// ReturnStateMachineARN is the return saga's, likewise.
	ReturnStateMachineARN string
	// ReturnDays is how many days after an order completes its customer
	// may return it.
	ReturnDays int
	// Webhooks: whether endpoints may be http:// or on private addresses
	// (development and tests only), how long one delivery may take, how
	// many are sent at once, and how often the points-expiring scan runs
	// (0: never).
	WebhookAllowPrivate bool
	WebhookTimeout      time.Duration
	WebhookWorkers      int
	WebhookScanEvery    time.Duration
	// WebhookQueueURL is the SQS queue deliveries are handed to (the
	// Lambda functions' shape); empty on one machine.
	WebhookQueueURL string
}

// defaults is the configuration with every default, no flag or
// environment applied.
// tablePrefix keeps table names within DynamoDB's rules (3-255 of
// [A-Za-z0-9._-]) whatever the longest suffix.
var tablePrefix = regexp.MustCompile(`^[A-Za-z0-9._-]{0,200}$`)

func Defaults() Config {
	c, err := ParseConfig("defaults", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		panic(err) // a bad default is a programming error
	}
	return c
}

// setting declares one flag with its environment variable.
type setting struct {
	flag, env, def, help string
	set                  func(string) error
}

// ParseConfig reads the flags of a command (those in want) over the
// environment over the defaults.
func ParseConfig(name string, args []string, getenv func(string) string, stderr io.Writer, want ...string) (Config, error) {
	c, rest, err := ParseCommand(name, args, getenv, stderr, nil, want...)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected arguments: %s", strings.Join(rest, " "))
	}
	return c, err
}

// ParseCommand is ParseConfig for a command with flags of its own (extra
// declares them) and arguments, which it returns.
func ParseCommand(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet), want ...string) (Config, []string, error) {
	var c Config
	all := []setting{
		{"addr", "UNICORN_ADDR", "localhost:8080", "address to listen on (\":8080\" for every interface)", func(s string) error { c.Addr = s; return nil }},
		{"db", "UNICORN_DB", "data/unicorn.db", "path of the SQLite database file", func(s string) error { c.DBPath = s; return nil }},
		{"point-ttl-days", "POINT_TTL_DAYS", "365", "days after its issue day that a lot of points expires", func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 36500 {
				return fmt.Errorf("must be a whole number of days from 1 to 36500")
			}
			c.TTLDays = n
			return nil
		}},
		{"sweep-interval", "UNICORN_SWEEP_INTERVAL", "1h", "how often serve expires due points (0 turns the sweeper off)", func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return fmt.Errorf("must be a duration such as 10m or 1h")
			}
			c.SweepEvery = d
			return nil
		}},
		{"point-value", "UNICORN_POINT_VALUE", "0.01", "money one loyalty point is worth when it pays for an order", func(s string) error {
			d, err := decimal.NewFromString(s)
			if err != nil || !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(1000)) {
				return fmt.Errorf("must be a positive decimal, at most 1000")
			}
			c.PointValue = d
			return nil
		}},
		{"purchase-wait", "UNICORN_PURCHASE_WAIT", "5s", "how long POST /purchase waits for the saga before answering 202", func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 || d > time.Minute {
				return fmt.Errorf("must be a duration from 0 to 1m")
			}
			c.PurchaseWait = d
			return nil
		}},
		{"reservation-ttl", "UNICORN_RESERVATION_TTL", "15m", "how long reserved stock waits for its order before it is given back", func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < time.Minute {
				return fmt.Errorf("must be a duration of at least 1m")
			}
			c.ReservationTTL = d
			return nil
		}},
		{"return-days", "UNICORN_RETURN_DAYS", "30", "how many days after an order completes its customer may return it (an admin may at any time); the points it earned stay pending, unspendable, that long", func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 365 {
				return fmt.Errorf("must be a whole number of days from 1 to 365")
			}
			c.ReturnDays = n
			return nil
		}},
		{"webhook-allow-private", "UNICORN_WEBHOOK_ALLOW_PRIVATE", "false", "accept webhook endpoints on http:// and on private, loopback and link-local addresses (development and tests only)", func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			c.WebhookAllowPrivate = b
			return nil
		}},
		{"webhook-timeout", "UNICORN_WEBHOOK_TIMEOUT", "10s", "how long one webhook delivery may take before it counts as failed", func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < time.Second || d > time.Minute {
				return fmt.Errorf("must be a duration from 1s to 1m")
			}
			c.WebhookTimeout = d
			return nil
		}},
		{"webhook-workers", "UNICORN_WEBHOOK_WORKERS", "8", "how many webhook deliveries serve sends at once", func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 256 {
				return fmt.Errorf("must be a whole number from 1 to 256")
			}
			c.WebhookWorkers = n
			return nil
		}},
		{"webhook-scan-interval", "UNICORN_WEBHOOK_SCAN_INTERVAL", "24h", "how often serve looks for points about to expire, for points.expiring webhooks (0 turns it off)", func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 || (d > 0 && d < time.Minute) {
				return fmt.Errorf("must be 0 or a duration of at least 1m")
			}
			c.WebhookScanEvery = d
			return nil
		}},
		{"webhook-queue-url", "UNICORN_WEBHOOK_QUEUE_URL", "", "the SQS queue webhook deliveries are handed to (Lambda functions only)", func(s string) error { c.WebhookQueueURL = s; return nil }},
		{"saga-workers", "UNICORN_SAGA_WORKERS", "16", "how many purchase sagas move at once", func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 256 {
				return fmt.Errorf("must be a whole number from 1 to 256")
			}
			c.SagaWorkers = n
			return nil
		}},
		{"client-rate", "UNICORN_CLIENT_RATE", "1000", "requests a second all callers of one client may make together; more are answered 429 with Retry-After (0: no limit)", func(s string) error {
			return rateSetting(s, &c.ClientRate)
		}},
		{"caller-rate", "UNICORN_CALLER_RATE", "200", "requests a second one caller may make (an API key, a signed-in user, or an address without credentials); 0: no limit", func(s string) error {
			return rateSetting(s, &c.CallerRate)
		}},
		{"max-in-flight", "UNICORN_MAX_IN_FLIGHT", "512", "requests handled at once; more are answered 503 with Retry-After at once, instead of waiting (0: no bound)", func(s string) error {
			return boundSetting(s, &c.MaxInFlight)
		}},
		{"max-sagas", "UNICORN_MAX_SAGAS", "64", "purchases under way at once; more are answered 503 with Retry-After before anything is stored (0: no bound)", func(s string) error {
			return boundSetting(s, &c.MaxSagas)
		}},
		{"demo", "UNICORN_DEMO", "true", "load the demo catalog, wallet and campaign into an empty store", func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			c.Demo = b
			return nil
		}},
		{"demo-password", "UNICORN_DEMO_PASSWORD", "", "password of the demo users (random, printed once, when empty)", func(s string) error {
			if s != "" && len(s) < 12 {
				return fmt.Errorf("must have at least 12 characters")
			}
			c.DemoPassword = s
			return nil
		}},
		{"token-ttl", "UNICORN_TOKEN_TTL", "15m", "how long an access token lives", func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < time.Minute || d > 24*time.Hour {
				return fmt.Errorf("must be a duration from 1m to 24h")
			}
			c.TokenTTL = d
			return nil
		}},
		{"token-issuer", "UNICORN_TOKEN_ISSUER", "unicorn-store", "iss of the access tokens the store signs", func(s string) error { c.TokenIssuer = s; return nil }},
		{"token-audience", "UNICORN_TOKEN_AUDIENCE", "unicorn-api", "aud of the access tokens the store signs", func(s string) error { c.TokenAudience = s; return nil }},
		{"oidc-issuer", "UNICORN_OIDC_ISSUER", "", "issuer of an external identity provider's tokens to accept too (Cognito user pool URL)", func(s string) error { c.OIDCIssuer = s; return nil }},
		{"oidc-audience", "UNICORN_OIDC_AUDIENCE", "", "the app client id those tokens must be for", func(s string) error { c.OIDCAudience = s; return nil }},
		{"oidc-jwks-url", "UNICORN_OIDC_JWKS_URL", "", "where the provider publishes its keys (<issuer>/.well-known/jwks.json by default)", func(s string) error { c.OIDCJWKSURL = s; return nil }},
		{"cors-origins", "UNICORN_CORS_ORIGINS", "", "comma-separated web origins allowed to call the API from a browser", func(s string) error {
			c.CORSOrigins = nil
			for _, o := range strings.Split(s, ",") {
				if o = strings.TrimSpace(o); o != "" {
					c.CORSOrigins = append(c.CORSOrigins, o)
				}
			}
			return nil
		}},
		{"webapp-dir", "UNICORN_WEBAPP_DIR", "webapp/dist", "directory of the built web app, served at / (relative to the working directory)", func(s string) error {
			if s == "" {
				return fmt.Errorf("must be a directory")
			}
			c.WebAppDir = s
			return nil
		}},
		{"store-client", "UNICORN_STORE_CLIENT", "UnicornStore", "the client the store is: its catalog, wallets, orders and customers belong to it", func(s string) error {
			if !limits.ID.MatchString(s) {
				return fmt.Errorf("must be %s", limits.IDRule)
			}
			c.StoreClient = s
			return nil
		}},
		{"points-ceiling", "UNICORN_POINTS_CEILING", "1", "most points a purchase may earn from a client's campaigns, unless the client's admin sets its own: points per 1.00 of the amount, optionally + fixed points, such as 0.5+100", func(s string) error {
			ceiling, err := campaign.ParseCeiling(s)
			if err != nil {
				return err
			}
			c.PointsCeiling = ceiling
			return nil
		}},
		{"store", "UNICORN_STORE", "sqlite", "where the store keeps its data: sqlite (the -db file) or dynamodb (the tables of -table-prefix)", func(s string) error {
			if s != "sqlite" && s != "dynamodb" {
				return fmt.Errorf("must be sqlite or dynamodb")
			}
			c.Store = s
			return nil
		}},
		{"dynamodb-endpoint", "AWS_ENDPOINT_URL_DYNAMODB", "", "DynamoDB's address when it is not AWS's (DynamoDB Local: http://localhost:8000)", func(s string) error {
			if s != "" && !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
				return fmt.Errorf("must be an http:// or https:// address")
			}
			c.DynamoDBEndpoint = s
			return nil
		}},
		{"table-prefix", "UNICORN_TABLE_PREFIX", "unicorn-", "prefix of the DynamoDB table names (unicorn-ledger, unicorn-balances, ...)", func(s string) error {
			if !tablePrefix.MatchString(s) {
				return fmt.Errorf("must be at most 200 letters, digits, '.', '-' or '_'")
			}
			c.TablePrefix = s
			return nil
		}},
		{"create-tables", "UNICORN_CREATE_TABLES", "false", "create the DynamoDB tables that do not exist (for DynamoDB Local; in AWS the CDK app creates them)", func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			c.CreateTables = b
			return nil
		}},
		{"state-machine-arn", "UNICORN_STATE_MACHINE_ARN", "", "the purchase saga's Step Functions state machine (Lambda functions only)", func(s string) error {
			if s != "" && !strings.HasPrefix(s, "arn:") {
				return fmt.Errorf("must be a state machine ARN")
			}
			c.StateMachineARN = s
			return nil
		}},
		{"return-state-machine-arn", "UNICORN_RETURN_STATE_MACHINE_ARN", "", "the return saga's Step Functions state machine (Lambda functions only)", func(s string) error {
			if s != "" && !strings.HasPrefix(s, "arn:") {
				return fmt.Errorf("must be a state machine ARN")
			}
			c.ReturnStateMachineARN = s
			return nil
		}},
		{"debug-addr", "UNICORN_DEBUG_ADDR", "", "address of a separate listener serving profiles and metrics (/debug/pprof/, /metrics); off when empty, and never on the API's address", func(s string) error { c.DebugAddr = s; return nil }},
		{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error", func(s string) error { return c.LogLevel.UnmarshalText([]byte(s)) }},
		{"log-format", "LOG_FORMAT", "text", "text or json", func(s string) error {
			if s != "text" && s != "json" {
				return fmt.Errorf("must be text or json")
			}
			c.LogFormat = s
			return nil
		}},
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if extra != nil {
		extra(fs)
	}
	var used []setting
	for _, s := range all {
		if len(want) > 0 && !slices.Contains(want, s.flag) {
			// Not a flag of this command, but its default still applies.
			if err := s.set(s.def); err != nil {
				panic(err) // a bad default is a programming error
			}
			continue
		}
		used = append(used, s)
		fs.Func(s.flag, fmt.Sprintf("%s [%s] (default %q)", s.help, s.env, s.def), s.set)
	}
	// Defaults, then the environment, then the flags.
	for _, s := range used {
		if err := s.set(s.def); err != nil {
			panic(err)
		}
		if v := getenv(s.env); v != "" {
			if err := s.set(v); err != nil {
				return c, nil, fmt.Errorf("%s=%q: %w", s.env, v, err)
			}
		}
	}
	// Flags may come before or after the arguments ("revoke ID -db x").
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return c, nil, err
		}
		if fs.NArg() == 0 {
			if c.ReturnDays >= c.TTLDays {
				// A purchase's points are pending through its return
				// window: they would expire before they could be spent.
				return c, nil, fmt.Errorf("-return-days (%d) must be fewer than -point-ttl-days (%d): a purchase's points stay pending through its return window",
					c.ReturnDays, c.TTLDays)
			}
			return c, rest, nil
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
}

// NewLogger is the logger of c's level and format. A line logged with a
// request's context names the request, as the API's own lines do.
func NewLogger(c Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(httpapi.LogRequestIDs(h))
}

// rateSetting reads requests a second: 0 (no limit) up to a million.
func rateSetting(s string, dst *float64) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e6 || v != v {
		return fmt.Errorf("must be a number of requests a second from 0 (no limit) to 1000000")
	}
	*dst = v
	return nil
}

// boundSetting reads a count: 0 (no bound) up to a million.
func boundSetting(s string, dst *int) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1_000_000 {
		return fmt.Errorf("must be a whole number from 0 (no bound) to 1000000")
	}
	*dst = n
	return nil
}
