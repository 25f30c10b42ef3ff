package httpapi

import (
	"errors"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/ports"
)

// tokenResponse is what sign-in and refresh answer (OAuth 2.0's names).
type tokenResponse struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int64    `json:"expires_in"`
	RefreshToken string   `json:"refresh_token"`
	User         userView `json:"user"`
}

type userView struct {
	Username  string    `json:"username"`
	Client    string    `json:"client"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

func viewUser(u ports.User) userView {
	return userView{Username: u.Username, Client: u.Client, Role: u.Role, CreatedAt: u.CreatedAt}
}

func writeTokens(w http.ResponseWriter, t identity.Tokens) {
	// Tokens must not be cached by anything between here and the client.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: t.AccessToken, TokenType: "Bearer",
		ExpiresIn: int64(t.ExpiresIn.Round(time.Second).Seconds()), RefreshToken: t.RefreshToken, User: viewUser(t.User)})
}

// address is the caller's network address (the TCP peer), for throttling
// sign-ins; identity decides how addresses group (an IPv6 /64 is one).
func address(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	err := decodeBody(r, &b)
	if err == nil && (b.Username == "" || b.Password == "") {
		err = badRequest("", "send {\"username\": ..., \"password\": ...}")
	}
	var t identity.Tokens
	if err == nil {
		t, err = s.identity.SignIn(r.Context(), b.Username, b.Password, address(r))
	}
	var te *identity.ThrottledError
	if errors.As(err, &te) {
		// Rounded up: an attempt made when it says is not refused again.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(te.RetryAfter.Seconds()))))
	}
	if err != nil {
		s.metrics.SignInFailed(signInFailure(err))
		writeError(w, r, err)
		return
	}
	writeTokens(w, t)
}

func (s *server) refresh(w http.ResponseWriter, r *http.Request) {
	var b struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	if b.RefreshToken == "" {
		writeError(w, r, badRequest("refresh_token", "refresh_token is required"))
		return
	}
	t, err := s.identity.Refresh(r.Context(), b.RefreshToken)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeTokens(w, t)
}

// signOut ends the session of the refresh token in the body, or of the
// access token in the Authorization header.
func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	var b struct {
		RefreshToken string `json:"refresh_token"`
	}
	if body := peekBody(r); len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeBody(r, &b); err != nil {
			writeError(w, r, err)
			return
		}
	}
	var p *ports.Principal
	if b.RefreshToken == "" {
		who, ok, err := s.credentials(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if ok {
			p = &who
		}
	}
	if err := s.identity.SignOut(r.Context(), b.RefreshToken, p); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// meView is who the credentials are: a user has a role and no scopes (an
// empty list, as every list of the API), an API key scopes and no role.
type meView struct {
	Kind    string   `json:"kind"`
	Subject string   `json:"subject"`
	Client  string   `json:"client"`
	Role    string   `json:"role,omitempty"`
	Scopes  []string `json:"scopes"`
}

func (s *server) me(w http.ResponseWriter, r *http.Request) {
	p, _ := principalOf(r)
	writeJSON(w, http.StatusOK, meView{Kind: p.Kind, Subject: p.Subject, Client: p.Client, Role: p.Role, Scopes: append([]string{}, p.Scopes...)})
}

func (s *server) jwksDoc(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.jwks)
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request) {
	p, _ := principalOf(r)
	users, err := s.identity.Users(r.Context(), p.Client)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]userView, len(users))
	for i, u := range users {
		items[i] = viewUser(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// createUser adds a user to the admin's client.
func (s *server) createUser(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Username string `json:"username"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &b); err != nil {
		writeError(w, r, err)
		return
	}
	p, _ := principalOf(r)
	u, err := s.identity.CreateUser(r.Context(), b.Username, p.Client, b.Role, b.Password)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/users/"+u.Username+"/wallet")
	writeJSON(w, http.StatusCreated, viewUser(u))
}

// CORS is what a page of an allowed origin may do with the API: the
// server answers preflights with it, and the cloud's API Gateway, which
// answers them there, is configured with the same.
var CORS = struct {
	Methods, AllowHeaders, ExposeHeaders []string
	MaxAge                               time.Duration
}{
	Methods:       []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
	AllowHeaders:  []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Prefer", "X-Api-Key", "X-Request-Id"},
	ExposeHeaders: []string{"ETag", "Location", "Preference-Applied", "Retry-After", "X-Request-Id"},
	MaxAge:        10 * time.Minute,
}

// cors lets browsers on the allowed origins call the API: it answers
// preflight requests and marks responses to allowed origins. Other origins
// get no CORS headers, so browsers keep their pages out.
func cors(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !slices.Contains(origins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", strings.Join(CORS.ExposeHeaders, ", "))
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", strings.Join(CORS.Methods, ", "))
			h.Set("Access-Control-Allow-Headers", strings.Join(CORS.AllowHeaders, ", "))
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(CORS.MaxAge.Seconds())))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
