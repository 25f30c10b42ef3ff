package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/unicornstore/unicorn/domains/tier"
	"github.com/unicornstore/unicorn/limits"
)

// tierView is one tier as the API shows it.
type tierView struct {
	Name       string      `json:"name"`
	MinPoints  int64       `json:"min_points"`
	Multiplier json.Number `json:"multiplier"`
}

func viewTiers(ts []tier.Tier) []tierView {
	out := make([]tierView, len(ts))
	for i, t := range ts {
		out[i] = tierView{Name: t.Name, MinPoints: t.MinPoints, Multiplier: json.Number(t.Multiplier.String())}
	}
	return out
}

// tiersView is a client's tiers: none (an empty list, version 0) for a
// client without.
type tiersView struct {
	Client     string     `json:"client"`
	WindowDays int        `json:"window_days,omitempty"`
	Tiers      []tierView `json:"tiers"`
	Version    int64      `json:"version"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty"`
	UpdatedBy  string     `json:"updated_by,omitempty"`
}

func writeTiers(w http.ResponseWriter, c tier.ClientRules) {
	v := tiersView{Client: c.Client, WindowDays: c.Rules.WindowDays(), Tiers: viewTiers(c.Rules.Tiers()), Version: c.Version, UpdatedBy: c.UpdatedBy}
	if c.Version > 0 {
		at := c.UpdatedAt
		v.UpdatedAt = &at
		w.Header().Set("ETag", etag(c.Version))
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *server) tiers(w http.ResponseWriter, r *http.Request) {
	c, err := s.tierRules.Rules(r.Context(), client(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeTiers(w, c)
}

// tiersBody sets a client's tiers.
type tiersBody struct {
	WindowDays int `json:"window_days"`
	Tiers      []struct {
		Name       string          `json:"name"`
		MinPoints  json.RawMessage `json:"min_points"`
		Multiplier json.RawMessage `json:"multiplier"` // a JSON number, read exactly
	} `json:"tiers"`
}

func (s *server) setTiers(w http.ResponseWriter, r *http.Request) {
	version, err := ifMatch(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var b tiersBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	if len(b.Tiers) > tier.MaxTiers {
		writeError(w, r, badRequest("tiers", fmt.Sprintf("a client has 1 to %d tiers", tier.MaxTiers)))
		return
	}
	tiers := make([]tier.Tier, len(b.Tiers))
	for i, t := range b.Tiers {
		min, err := wholeNumber(fmt.Sprintf("tiers[%d].min_points", i), t.MinPoints)
		if err != nil {
			writeError(w, r, err)
			return
		}
		tiers[i] = tier.Tier{Name: t.Name, MinPoints: min}
		text := string(t.Multiplier)
		if len(t.Multiplier) == 0 || text == "null" {
			text = "1"
		}
		m, ok := limits.Decimal(text)
		if !ok || text[0] != '-' && (text[0] < '0' || text[0] > '9') {
			writeError(w, r, badRequest(fmt.Sprintf("tiers[%d].multiplier", i), "a multiplier is a JSON number such as 1.5"))
			return
		}
		tiers[i].Multiplier = m
	}
	rules, err := tier.NewRules(tiers, b.WindowDays)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := s.tierRules.SetRules(r.Context(), client(r), rules, version, actor(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeTiers(w, c)
}

// standingView is a member's tier, what they earned and what the next
// tier needs.
type standingView struct {
	AccountID  string      `json:"account_id"`
	Tier       string      `json:"tier,omitempty"` // absent when the client has no tiers
	Multiplier json.Number `json:"multiplier"`
	Earned     int64       `json:"earned"`
	WindowDays int         `json:"window_days,omitempty"`
	Next       *struct {
		Name      string `json:"name"`
		MinPoints int64  `json:"min_points"`
		Needs     int64  `json:"needs"`
	} `json:"next,omitempty"`
	Tiers []tierView `json:"tiers"`
}

func (s *server) standing(w http.ResponseWriter, r *http.Request) {
	account, err := accountOf(r, r.URL.Query().Get("account_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	st, err := s.tierRules.Of(r.Context(), account)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v := standingView{AccountID: account.ID(), Tier: st.Tier.Name, Multiplier: json.Number(st.Tier.Multiplier.String()), Earned: st.Earned,
		WindowDays: st.WindowDays, Tiers: viewTiers(st.Tiers)}
	if st.Next != nil {
		v.Next = &struct {
			Name      string `json:"name"`
			MinPoints int64  `json:"min_points"`
			Needs     int64  `json:"needs"`
		}{st.Next.Name, st.Next.MinPoints, st.Needs}
	}
	writeJSON(w, http.StatusOK, v)
}
