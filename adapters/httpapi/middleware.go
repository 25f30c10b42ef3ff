package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/limits"
)

type loggerKey struct{}

// requestIDKey holds a request's id in its context, for LogRequestIDs.
type requestIDKey struct{}

// requestIDAttr is the key of a request's id in every log line about it.
const requestIDAttr = "request_id"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// statusWriter remembers the status and size of a response for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives every request an id (the client's X-Request-Id when it is
// sane), a logger carrying it, a bounded body, recovery from panics, one
// structured log line when it ends, and its time to metrics, under the
// pattern of the route that takes it (never its path, which the caller
// chooses).
func observe(log *slog.Logger, csp string, metrics Metrics, routes routes, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		securityHeaders(w.Header(), csp)
		l := log.With(requestIDAttr, id)
		ctx := context.WithValue(r.Context(), loggerKey{}, l)
		r = r.WithContext(context.WithValue(ctx, requestIDKey{}, id))
		r.Body = http.MaxBytesReader(w, r.Body, limits.BodyBytes) // a larger body is a 413
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				l.Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r, fmt.Errorf("panic: %v", v))
				}
			}
			took := time.Since(start)
			l.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"duration_ms", float64(took.Microseconds())/1000, "bytes", sw.bytes)
			status := sw.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http answers 200
			}
			if _, none := metrics.(noMetrics); !none {
				metrics.Request(routes.of(r), status, took)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// LogRequestIDs makes h add the request's id to the lines logged with a
// request's context (log.InfoContext(ctx, ...)) by code that has no
// request logger: the domains a handler calls. So every line written while
// a request is handled names it, and a line of a logger that carries the
// id already (logFor's) does not name it twice.
func LogRequestIDs(h slog.Handler) slog.Handler { return requestIDs{h: h} }

type requestIDs struct {
	h   slog.Handler
	has bool // the logger's own attributes hold a request id
}

func (h requestIDs) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h requestIDs) Handle(ctx context.Context, rec slog.Record) error {
	if h.has || ctx == nil {
		return h.h.Handle(ctx, rec)
	}
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		rec = rec.Clone() // the caller's record may be handled again
		rec.AddAttrs(slog.String(requestIDAttr, id))
	}
	return h.h.Handle(ctx, rec)
}

func (h requestIDs) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := h.has || slices.ContainsFunc(attrs, func(a slog.Attr) bool { return a.Key == requestIDAttr })
	return requestIDs{h: h.h.WithAttrs(attrs), has: has}
}

func (h requestIDs) WithGroup(name string) slog.Handler {
	return requestIDs{h: h.h.WithGroup(name), has: h.has}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// problems404 answers unrouted requests (no such path, or a method the
// path does not take) with problem+json instead of the mux's plain text.
func problems404(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(status int, typ, detail string) {
			writeProblem(w, Problem{Type: problemType(typ), Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path})
		}
		if clean, ok := unclean(r); ok {
			refuse(http.StatusNotFound, "not-found", fmt.Sprintf("no route for %s %s: paths are taken only in their clean form, %s", r.Method, r.URL.Path, clean))
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// Let the mux decide 404 or 405 (and the Allow header), then
		// replace its body.
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		allow := probe.header.Get("Allow")
		switch {
		case probe.status == 0 || probe.status < 400:
			mux.ServeHTTP(w, r) // a redirect: a subtree's final slash
		case probe.status == http.StatusMethodNotAllowed:
			w.Header().Set("Allow", allow)
			refuse(probe.status, "method-not-allowed", fmt.Sprintf("%s does not take %s; it takes %s", r.URL.Path, r.Method, allow))
		default:
			if allow != "" {
				w.Header().Set("Allow", allow)
			}
			refuse(probe.status, "not-found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		}
	})
}

// unclean returns the clean form of r's path when the path is not in it
// (// or a dot segment). The mux would redirect such a path, and a 307
// sends a write again, body and all, to a path the caller did not write:
// the API takes a path only as written. (The mux cleans no CONNECT path.)
func unclean(r *http.Request) (clean string, ok bool) {
	clean = cleanPath(r.URL.Path)
	return clean, clean != r.URL.Path && r.Method != http.MethodConnect
}

// cleanPath is p without // or dot segments, keeping a final slash: the
// form the mux routes.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// ContentSecurityPolicy lets pages run only the store's own scripts and
// call only the store, and the Cognito user pool people sign in at when
// there is one (the CloudFront distribution of the cloud shape sends the
// same policy with the web app). Styles may also be inline: the web app's
// components inject theirs at run time. Images may come from any https
// address, as product images may.
func ContentSecurityPolicy(c *Cognito) string {
	connect := "'self'"
	if c != nil {
		connect += " " + c.Endpoint()
	}
	return "default-src 'self'; connect-src " + connect + "; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; " +
		"object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
}

// securityHeaders keep browsers from sniffing types, framing the store,
// leaking URLs as referrers, or running anything the store did not send.
func securityHeaders(h http.Header, csp string) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", csp)
}
