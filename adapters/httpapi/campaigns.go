package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// campaignView is a campaign as the API shows it: its definition (seed 003's
// client, campaign_name, rules, and the rest) and its version metadata.
type campaignView struct {
	campaign.Draft
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
	Awarded   *int64    `json:"awarded,omitempty"` // points granted from the budget, when there is one
	// Warnings are what may be a mistake (a path the store's purchase
	// event does not have); none: absent.
	Warnings []FieldError `json:"warnings,omitempty"`
}

func (s *server) view(r *http.Request, c *campaign.Campaign) (campaignView, error) {
	v := campaignView{Draft: c.Draft(), Version: c.Version(), UpdatedAt: c.UpdatedAt(), UpdatedBy: c.UpdatedBy(), Warnings: fieldErrors(c.Warnings())}
	if c.Budget() > 0 {
		awarded, err := s.campaigns.Awarded(r.Context(), c)
		if err != nil {
			return v, err
		}
		v.Awarded = &awarded
	}
	return v, nil
}

func (s *server) writeCampaign(w http.ResponseWriter, r *http.Request, status int, c *campaign.Campaign) {
	v, err := s.view(r, c)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(c.Version()))
	if status == http.StatusCreated {
		w.Header().Set("Location", "/campaigns/"+c.Name()+"?client="+c.Client())
	}
	writeJSON(w, status, v)
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the version an edit was made against from If-Match; 0
// when the header is absent or "*".
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 1 {
		return 0, badRequest("If-Match", `If-Match must be an ETag this API gave, such as "3"`)
	}
	return v, nil
}

// client reads ?client=, defaulting to the caller's own.
func client(r *http.Request) string {
	if c := r.URL.Query().Get("client"); c != "" {
		return c
	}
	return ownClient(r)
}

// ownClient is the caller's client: every principal has one.
func ownClient(r *http.Request) string {
	p, _ := principalOf(r)
	return p.Client
}

// actor names who makes a change: the signed-in user, or the API key.
func actor(r *http.Request) string {
	p, _ := principalOf(r)
	if p.Kind == ports.PrincipalAPIKey {
		return "apikey:" + p.Subject
	}
	return p.Subject
}

func (s *server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	// The caller's client's campaigns: the route's rule admits no other.
	list, err := s.campaigns.List(r.Context(), client(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]campaignView, 0, len(list))
	for _, c := range list {
		v, err := s.view(r, c)
		if err != nil {
			writeError(w, r, err)
			return
		}
		items = append(items, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items)})
}

func (s *server) createCampaign(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	d, err := campaign.DecodeDraft(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.campaigns.Create(r.Context(), d, actor(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeCampaign(w, r, http.StatusCreated, c)
}

// validateCampaign checks a draft without saving it, for editors that check
// as the marketer types. Mistakes in the draft are the answer, not a failed
// request: 200 with valid false and each problem at its field, the same
// list POST /campaigns would refuse the draft with, and the warnings.
func (s *server) validateCampaign(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var c *campaign.Campaign
	d, err := campaign.DecodeDraft(body)
	if err == nil {
		c, err = s.campaigns.Validate(r.Context(), d)
	}
	var ve *campaign.ValidationError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, validation{Valid: true, Errors: []FieldError{}, Warnings: fieldErrors(c.Warnings())})
	case errors.As(err, &ve):
		writeJSON(w, http.StatusOK, validation{Errors: campaignErrors(ve), Warnings: fieldErrors(ve.Warnings)})
	default:
		writeError(w, r, err)
	}
}

type validation struct {
	Valid    bool         `json:"valid"`
	Errors   []FieldError `json:"errors"`
	Warnings []FieldError `json:"warnings"`
}

// fieldErrors lists a campaign's warnings as the API names them; never nil.
func fieldErrors(ps []campaign.Problem) []FieldError {
	out := make([]FieldError, len(ps))
	for i, p := range ps {
		out[i] = FieldError{Field: p.Field, Message: p.Message, Position: p.Position}
	}
	return out
}

func (s *server) getCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.campaigns.Get(r.Context(), client(r), r.PathValue("name"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *server) updateCampaign(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.campaigns.Update(r.Context(), client(r), r.PathValue("name"), version, body, actor(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *server) deleteCampaign(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.campaigns.Delete(r.Context(), client(r), r.PathValue("name"), version, actor(r)); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) campaignVersions(w http.ResponseWriter, r *http.Request) {
	revs, err := s.campaigns.History(r.Context(), client(r), r.PathValue("name"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": revs, "count": len(revs)})
}

// simulateRequest is the body of POST /campaigns/simulate.
type simulateRequest struct {
	Client   string          `json:"client"`
	Event    json.RawMessage `json:"event"`
	Campaign json.RawMessage `json:"campaign"`
	// WithActive evaluates the draft together with the client's saved
	// campaigns (it replaces the one of its name) rather than alone.
	WithActive bool `json:"with_active"`
}

// simulate evaluates a sample purchase against the saved campaigns of a
// client, against a draft campaign alone, or against the draft among the
// saved campaigns (with_active), issuing nothing.
func (s *server) simulate(w http.ResponseWriter, r *http.Request) {
	var req simulateRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if len(req.Event) == 0 || string(req.Event) == "null" {
		writeError(w, r, badRequest("event", "event is required: a sample purchase such as {\"amount\":1700}"))
		return
	}
	ev, err := campaign.ParseEvent(req.Event)
	if err != nil {
		writeError(w, r, err)
		return
	}
	clientName := req.Client
	if clientName == "" {
		clientName = ownClient(r)
	}
	var draft *campaign.Draft
	if len(req.Campaign) > 0 && string(req.Campaign) != "null" {
		d, err := campaign.DecodeDraft(req.Campaign)
		if err != nil {
			writeError(w, r, prefixProblems(err, "campaign."))
			return
		}
		draft = &d
	}
	var res campaign.Result
	if draft != nil && req.WithActive {
		res, err = s.campaigns.SimulateWithSaved(r.Context(), clientName, ev, *draft)
	} else {
		res, err = s.campaigns.Simulate(r.Context(), clientName, ev, draft)
	}
	if err != nil {
		writeError(w, r, prefixProblems(err, "campaign."))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// backtestRequest is the body of POST /campaigns/backtest: a new campaign
// (as for POST /campaigns, client and campaign_name optional), or the
// campaign_name of a saved campaign and, optionally, a change to it (a
// JSON merge patch, as for PATCH /campaigns/{name}).
type backtestRequest struct {
	Client       string          `json:"client"`
	Days         json.RawMessage `json:"days"`
	Campaign     json.RawMessage `json:"campaign"`
	CampaignName string          `json:"campaign_name"`
	Patch        json.RawMessage `json:"patch"`
}

// backtestView is what a backtest answers.
type backtestView struct {
	Client       string                 `json:"client"`
	CampaignName string                 `json:"campaign_name"`
	New          bool                   `json:"new"`
	From         time.Time              `json:"from"`
	To           time.Time              `json:"to"`
	PerDay       []backtestDayView      `json:"per_day"`
	Total        backtestPoints         `json:"total"`
	Customers    []backtestCustomerView `json:"customers"`
	Purchases    int                    `json:"purchases_read"`
	Truncated    bool                   `json:"truncated"`
	StoppedBy    string                 `json:"stopped_by,omitempty"`
	Budgets      bool                   `json:"budgets_applied"`
	Note         string                 `json:"note"`
}

type backtestPoints struct {
	Orders            int64 `json:"orders"`
	Given             int64 `json:"given"`
	WouldGive         int64 `json:"would_give"`
	Difference        int64 `json:"difference"`
	CampaignGiven     int64 `json:"campaign_given"`
	CampaignWouldGive int64 `json:"campaign_would_give"`
}

type backtestDayView struct {
	Day string `json:"day"`
	backtestPoints
}

type backtestCustomerView struct {
	Username   string `json:"username"`
	Orders     int64  `json:"orders"`
	Given      int64  `json:"given"`
	WouldGive  int64  `json:"would_give"`
	Difference int64  `json:"difference"`
}

func viewBacktestPoints(p campaign.BacktestPoints) backtestPoints {
	return backtestPoints{Orders: p.Orders, Given: p.Given, WouldGive: p.WouldGive, Difference: p.WouldGive - p.Given,
		CampaignGiven: p.CampaignGiven, CampaignWouldGive: p.CampaignWouldGive}
}

func viewBacktest(b campaign.BacktestResult) backtestView {
	v := backtestView{Client: b.Client, CampaignName: b.Campaign, New: b.New, From: b.From, To: b.To, Total: viewBacktestPoints(b.Total),
		PerDay: make([]backtestDayView, len(b.Days)), Customers: make([]backtestCustomerView, len(b.Customers)),
		Purchases: b.Purchases, Truncated: b.Truncated, StoppedBy: b.StoppedBy, Budgets: b.BudgetsApplied, Note: b.Note}
	for i, d := range b.Days {
		v.PerDay[i] = backtestDayView{Day: d.Day, backtestPoints: viewBacktestPoints(d.BacktestPoints)}
	}
	for i, c := range b.Customers {
		v.Customers[i] = backtestCustomerView{Username: c.Username, Orders: c.Orders, Given: c.Given, WouldGive: c.WouldGive, Difference: c.Difference()}
	}
	return v
}

// backtest tries a new campaign, or a change to a saved one, against the
// client's completed purchases of the last days, writing nothing.
func (s *server) backtest(w http.ResponseWriter, r *http.Request) {
	var req backtestRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	days, err := wholeNumber("days", req.Days)
	if err != nil {
		writeError(w, r, err)
		return
	}
	clientName := req.Client
	if clientName == "" {
		clientName = ownClient(r)
	}
	bt := campaign.BacktestRequest{Days: int(days), Name: req.CampaignName}
	prefix := "patch."
	if present(req.Campaign) {
		d, err := campaign.DecodeDraft(req.Campaign)
		if err != nil {
			writeError(w, r, prefixProblems(err, "campaign."))
			return
		}
		bt.Draft, prefix = &d, "campaign."
	}
	if present(req.Patch) {
		bt.Patch = req.Patch
	}
	res, err := s.campaigns.Backtest(r.Context(), clientName, bt)
	if err != nil {
		writeError(w, r, prefixProblems(err, prefix))
		return
	}
	writeJSON(w, http.StatusOK, viewBacktest(res))
}

// prefixProblems puts a draft's problems under the request field holding it.
func prefixProblems(err error, prefix string) error {
	var ve *campaign.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &campaign.ValidationError{Problems: make([]campaign.Problem, len(ve.Problems))}
	for i, p := range ve.Problems {
		p.Field = strings.TrimSuffix(prefix+p.Field, ".")
		out.Problems[i] = p
	}
	return out
}

// award evaluates a purchase event against its client's campaigns and
// issues the points, once per order_id.
func (s *server) award(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ev, err := campaign.ParseEvent(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if ev.Client == "" {
		ev.Client = ownClient(r)
	}
	a, err := s.campaigns.Award(r.Context(), ev, campaign.AwardKey(ev.OrderID), 0)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v := awardView{OrderID: a.OrderID, Account: a.Account.ID(), Total: a.Total, Lines: a.Lines}
	if a.Transaction != nil {
		tx := viewTransaction(*a.Transaction)
		v.Transaction = &tx
	}
	writeJSON(w, http.StatusOK, v)
}

// awardView is what an award answers: the points, why, and the transaction
// that issued them (none when nothing was earned).
type awardView struct {
	OrderID     string           `json:"order_id"`
	Account     string           `json:"account_id"`
	Total       int64            `json:"total"`
	Lines       []campaign.Line  `json:"breakdown"`
	Transaction *transactionView `json:"transaction,omitempty"`
}

// ceilingView is a client's ceiling on points per purchase as the API
// shows it. Numbers are JSON numbers with their exact digits.
type ceilingView struct {
	Client          string      `json:"client"`
	PointsPerAmount json.Number `json:"points_per_amount"` // points per 1.00 of the purchase's amount
	FixedPoints     int64       `json:"fixed_points"`      // plus these
	Text            string      `json:"text"`              // the ceiling in words
	// Default: the client has no ceiling of its own, the server's applies.
	Default   bool       `json:"default"`
	Version   int64      `json:"version,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`
}

// ceilingBody is the body of PUT /points-ceiling.
type ceilingBody struct {
	PointsPerAmount json.RawMessage `json:"points_per_amount"` // a JSON number, read exactly
	FixedPoints     int64           `json:"fixed_points"`
}

func writeCeiling(w http.ResponseWriter, c campaign.ClientCeiling) {
	v := ceilingView{Client: c.Client, PointsPerAmount: json.Number(c.Ceiling.PerAmount().String()), FixedPoints: c.Ceiling.Fixed(),
		Text: c.Ceiling.Describe(), Default: c.Version == 0, Version: c.Version, UpdatedBy: c.UpdatedBy}
	if c.Version > 0 {
		at := c.UpdatedAt
		v.UpdatedAt = &at
		w.Header().Set("ETag", etag(c.Version))
	}
	writeJSON(w, http.StatusOK, v)
}

// pointsCeiling answers the client's ceiling: its own, or the server's
// default.
func (s *server) pointsCeiling(w http.ResponseWriter, r *http.Request) {
	c, err := s.campaigns.Ceiling(r.Context(), client(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCeiling(w, c)
}

// setPointsCeiling gives the client a ceiling of its own.
func (s *server) setPointsCeiling(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var body ceilingBody
	if err := decodeBody(r, &body); err != nil {
		writeError(w, r, err)
		return
	}
	if len(body.PointsPerAmount) == 0 || string(body.PointsPerAmount) == "null" {
		writeError(w, r, badRequest("points_per_amount", "points_per_amount is required: the points a purchase may earn per 1.00 of its amount, such as 1"))
		return
	}
	text := string(body.PointsPerAmount)
	per, ok := limits.Decimal(text)
	if !ok || text[0] != '-' && (text[0] < '0' || text[0] > '9') {
		writeError(w, r, badRequest("points_per_amount", "points_per_amount must be a JSON number such as 1 or 0.5"))
		return
	}
	ceiling, err := campaign.NewCeiling(per, body.FixedPoints)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.campaigns.SetCeiling(r.Context(), client(r), ceiling, version, actor(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeCeiling(w, c)
}
