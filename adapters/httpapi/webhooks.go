package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/unicornstore/unicorn/domains/webhooks"
)

// endpointView is a webhook endpoint as the API shows it: never its
// secret, which only its creation and a rotation answer, once.
type endpointView struct {
	ID           string    `json:"id"`
	URL          string    `json:"url"`
	Events       []string  `json:"events"`
	ExpiringDays int       `json:"expiring_days"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Version      int64     `json:"version"`
	Secret       string    `json:"secret,omitempty"`
}

func viewEndpoint(e *webhooks.Endpoint, secret string) endpointView {
	v := endpointView{ID: e.ID(), URL: e.URL(), ExpiringDays: e.ExpiringDays(), Active: e.Active(), CreatedAt: e.CreatedAt(),
		UpdatedAt: e.UpdatedAt(), Version: e.Version(), Secret: secret, Events: []string{}}
	for _, t := range e.Events() {
		v.Events = append(v.Events, t.String())
	}
	return v
}

// deliveryView is one delivery of the log.
type deliveryView struct {
	ID            string          `json:"id"`
	EndpointID    string          `json:"endpoint_id"`
	EventID       string          `json:"event_id"`
	EventType     string          `json:"event_type"`
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	LastAttemptAt *time.Time      `json:"last_attempt_at,omitempty"`
	LastStatus    int             `json:"last_status,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
	Replays       int             `json:"replays"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Payload       json.RawMessage `json:"payload"`
}

func viewDelivery(d *webhooks.Delivery) deliveryView {
	v := deliveryView{ID: d.ID(), EndpointID: d.EndpointID(), EventID: d.EventID(), EventType: d.EventType(), Status: d.Status().String(),
		Attempts: d.Attempts(), LastStatus: d.LastStatus(), LastError: d.LastError(), Replays: d.Replays(), CreatedAt: d.CreatedAt(),
		UpdatedAt: d.UpdatedAt(), Payload: d.Payload()}
	if at := d.NextAttemptAt(); !at.IsZero() && d.Status() == webhooks.Pending {
		v.NextAttemptAt = &at
	}
	if at := d.LastAttemptAt(); !at.IsZero() {
		v.LastAttemptAt = &at
	}
	return v
}

// endpointBody registers an endpoint.
type endpointBody struct {
	URL          string          `json:"url"`
	Events       []string        `json:"events"`
	ExpiringDays json.RawMessage `json:"expiring_days"`
}

func (s *server) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var b endpointBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	spec := webhooks.EndpointSpec{URL: b.URL, Events: b.Events}
	if present(b.ExpiringDays) {
		n, err := wholeNumber("expiring_days", b.ExpiringDays)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if n < 1 || n > 1000 {
			writeError(w, r, badRequest("expiring_days", "expiring_days is a whole number of days from 1 to 60"))
			return
		}
		spec.ExpiringDays = int(n)
	}
	e, secret, err := s.webhooks.CreateEndpoint(r.Context(), ownClient(r), spec)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/webhooks/endpoints/"+e.ID())
	w.Header().Set("ETag", etag(e.Version()))
	writeJSON(w, http.StatusCreated, viewEndpoint(e, secret))
}

func (s *server) listEndpoints(w http.ResponseWriter, r *http.Request) {
	list, err := s.webhooks.Endpoints(r.Context(), ownClient(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]endpointView, len(list))
	for i, e := range list {
		items[i] = viewEndpoint(e, "")
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// endpointVersion is the version a change of an endpoint is made against:
// If-Match, or, without it, the version it is at (any version, as the
// API's other changes read a missing If-Match).
func (s *server) endpointVersion(r *http.Request) (int64, error) {
	v, err := ifMatch(r)
	if err != nil || v != 0 {
		return v, err
	}
	e, err := s.webhooks.Endpoint(r.Context(), ownClient(r), r.PathValue("id"))
	if err != nil {
		return 0, err
	}
	return e.Version(), nil
}

func (s *server) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	version, err := s.endpointVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.webhooks.DeleteEndpoint(r.Context(), ownClient(r), r.PathValue("id"), version); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	version, err := s.endpointVersion(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	e, secret, err := s.webhooks.RotateSecret(r.Context(), ownClient(r), r.PathValue("id"), version)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(e.Version()))
	writeJSON(w, http.StatusOK, viewEndpoint(e, secret))
}

func (s *server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > webhooks.MaxDeliveriesPage {
			writeError(w, r, badRequest("limit", fmt.Sprintf("limit must be a whole number from 1 to %d", webhooks.MaxDeliveriesPage)))
			return
		}
		limit = n
	}
	list, next, err := s.webhooks.Deliveries(r.Context(), ownClient(r), q.Get("endpoint_id"), q.Get("cursor"), limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]deliveryView, len(list))
	for i, d := range list {
		items[i] = viewDelivery(d)
	}
	resp := map[string]any{"items": items}
	if next != "" {
		resp["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *server) replayDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.webhooks.Replay(r.Context(), ownClient(r), r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, viewDelivery(d))
}
