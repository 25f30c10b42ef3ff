package httpapi_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unicornstore/unicorn/adapters/httpapi"
)

const csp = "default-src 'self'; connect-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"

// builtWebApp writes a small built web app, and a file beside it that no
// request may reach, into a temporary directory; it returns the app's.
func builtWebApp(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dist := filepath.Join(root, "dist")
	for name, content := range map[string]string{
		"secret.txt":                      "not for the web",
		"dist/index.html":                 `<!doctype html><script type="module" src="/assets/app-abc.js"></script>`,
		"dist/assets/app-abc.js":          "console.log('unicorns')",
		"dist/assets/nested/font-1.woff2": "wOF2",
		"dist/favicon.svg":                "<svg/>",
	} {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Links pointing out of the app's directory, as a careless build or a
	// shared folder might hold.
	if err := os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(dist, "assets", "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(dist, "assets", "up")); err != nil {
		t.Fatal(err)
	}
	return dist
}

// TestWebApp: / is the app's page, always revalidated; its assets are
// cached for good; nothing outside the app's directory, and no directory
// listing, is served; the API works beside it.
func TestWebApp(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, webApp(httpapi.WebAppDir(builtWebApp(t))))
	a.auth = ""
	for _, tt := range []struct {
		path, body, contentType, cache string
	}{
		{"/", `src="/assets/app-abc.js"`, "text/html; charset=utf-8", "no-cache"},
		{"/assets/app-abc.js", "unicorns", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/assets/nested/font-1.woff2", "wOF2", "font/woff2", "public, max-age=31536000, immutable"},
		{"/favicon.svg", "<svg/>", "image/svg+xml", "no-cache"},
	} {
		r := a.do("GET", tt.path, "")
		if r.status != 200 || !strings.Contains(string(r.body), tt.body) || r.header.Get("Content-Type") != tt.contentType ||
			r.header.Get("Cache-Control") != tt.cache || r.header.Get("Content-Security-Policy") != csp {
			t.Errorf("GET %s: %d %s, Content-Type %q, Cache-Control %q, CSP %q", tt.path, r.status, r.body,
				r.header.Get("Content-Type"), r.header.Get("Cache-Control"), r.header.Get("Content-Security-Policy"))
		}
	}
	if r := a.do("HEAD", "/", ""); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD /: %d %q", r.status, r.body)
	}
	for _, path := range []string{"/assets/missing.js", "/assets/", "/assets/nested", "/assets/nested/", "/index.html", "/store",
		"/assets/leak.txt", "/assets/up/secret.txt", "/assets/x%00.png", "/assets/a%5Cb.js"} {
		r := a.do("GET", path, "")
		if r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" || r.header.Get("Cache-Control") != "" {
			t.Errorf("GET %s: %d %s, Content-Type %q, Cache-Control %q", path, r.status, r.body, r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
		}
	}
	// Out of the directory: the client follows the mux's redirect to the
	// cleaned path, which serves nothing; asked directly, without a client
	// in between, the handler serves nothing either.
	for _, path := range []string{"/assets/../../etc/passwd", "/assets/../../secret.txt", "/assets/..%2F..%2Fsecret.txt",
		"/assets/%2e%2e/%2e%2e/secret.txt", "/assets/..%5C..%5Csecret.txt", "/assets//secret.txt"} {
		r := a.do("GET", path, "")
		if (r.status != 404 && r.status != 400) || strings.Contains(string(r.body), "not for the web") || strings.Contains(string(r.body), "root:") {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
		w := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		a.srv.Config.Handler.ServeHTTP(w, req)
		if w.Code == 200 || strings.Contains(w.Body.String(), "not for the web") {
			t.Errorf("GET %s, handled directly: %d %s", path, w.Code, w.Body)
		}
	}
	if h := a.must(200, "GET", "/healthz", ""); h["status"] != "ok" {
		t.Errorf("health = %v", h)
	}
	if !httpapi.WebAppBuilt(httpapi.WebAppDir(builtWebApp(t))) {
		t.Error("WebAppBuilt says a built web app is not")
	}
}

// TestWebAppNotBuilt: without an index.html, / says how to build the app
// and the API works.
func TestWebAppNotBuilt(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365, webApp(httpapi.WebAppDir(t.TempDir())))
	for range 2 {
		r := a.do("GET", "/", "", "Authorization", "")
		if r.status != 200 || !strings.Contains(string(r.body), "make webapp") || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET /: %d %s (%s)", r.status, r.body, r.header.Get("Content-Type"))
		}
	}
	if httpapi.WebAppBuilt(httpapi.WebAppDir(t.TempDir())) || httpapi.WebAppBuilt(nil) {
		t.Error("WebAppBuilt says an empty directory, or none, holds a web app")
	}
	a.must(404, "GET", "/assets/app-abc.js", "")
	a.must(404, "GET", "/favicon.svg", "")
	if r := a.do("GET", "/products", ""); r.status != 200 {
		t.Errorf("GET /products: %d %s", r.status, r.body)
	}
}

// TestWebAppBuiltWhileServing: a build made after start-up is served
// without a restart.
func TestWebAppBuiltWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := newAPI(t, 365, webApp(httpapi.WebAppDir(dir)))
	if r := a.do("GET", "/", ""); !strings.Contains(string(r.body), "make webapp") {
		t.Fatalf("GET / before the build: %s", r.body)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html><title>Unicorn Store</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := a.do("GET", "/", ""); r.status != 200 || !strings.Contains(string(r.body), "<title>Unicorn Store</title>") {
		t.Errorf("GET / after the build: %d %s", r.status, r.body)
	}
}

// TestWebAppPrecompressed: a file built with .br and .gz siblings is sent
// in the best encoding the browser accepts, typed as the file itself; a
// file without siblings, or a browser that accepts neither, gets it as it
// is; every answer varies by Accept-Encoding.
func TestWebAppPrecompressed(t *testing.T) {
	t.Parallel()
	dist := builtWebApp(t)
	for name, content := range map[string]string{
		"assets/app-abc.js.br": "BROTLI-BYTES",
		"assets/app-abc.js.gz": "GZIP-BYTES",
		"index.html.br":        "BROTLI-INDEX",
		"assets/orphan.js.br":  "a sibling without its file",
	} {
		if err := os.WriteFile(filepath.Join(dist, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := newAPI(t, 365, webApp(httpapi.WebAppDir(dist)))
	a.auth = ""
	for _, tt := range []struct {
		path, accept, body, encoding, contentType string
		status                                    int
	}{
		{"/assets/app-abc.js", "gzip, deflate, br, zstd", "BROTLI-BYTES", "br", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "gzip", "GZIP-BYTES", "gzip", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "br;q=0, gzip;q=0.5", "GZIP-BYTES", "gzip", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "*", "BROTLI-BYTES", "br", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "*, br;q=0", "GZIP-BYTES", "gzip", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "identity", "unicorns", "", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "BR", "BROTLI-BYTES", "br", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "br;Q=0, gzip", "GZIP-BYTES", "gzip", "text/javascript; charset=utf-8", 200},
		{"/assets/app-abc.js", "br;x=1;q=0, gzip", "GZIP-BYTES", "gzip", "text/javascript; charset=utf-8", 200},
		{"/", "br, gzip", "BROTLI-INDEX", "br", "text/html; charset=utf-8", 200},
		{"/", "gzip", `src="/assets/app-abc.js"`, "", "text/html; charset=utf-8", 200}, // no .gz of it: as it is
		{"/favicon.svg", "br, gzip", "<svg/>", "", "image/svg+xml", 200},
		{"/assets/orphan.js", "br", "", "", "application/problem+json", 404},
	} {
		r := a.do("GET", tt.path, "", "Accept-Encoding", tt.accept)
		if r.status != tt.status || !strings.Contains(string(r.body), tt.body) || r.header.Get("Content-Encoding") != tt.encoding ||
			r.header.Get("Content-Type") != tt.contentType {
			t.Errorf("GET %s (Accept-Encoding %q): %d %q, Content-Encoding %q, Content-Type %q", tt.path, tt.accept, r.status, r.body,
				r.header.Get("Content-Encoding"), r.header.Get("Content-Type"))
		}
		if tt.status == 200 && r.header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("GET %s (Accept-Encoding %q): Vary %q", tt.path, tt.accept, r.header.Get("Vary"))
		}
		if tt.status == 200 && r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
			t.Errorf("GET %s (Accept-Encoding %q): Content-Length %q for %d bytes", tt.path, tt.accept, r.header.Get("Content-Length"), len(r.body))
		}
	}
	if r := a.do("GET", "/assets/app-abc.js", "", "Accept-Encoding", "br", "Range", "bytes=0-5"); r.status != 206 || string(r.body) != "BROTLI" {
		t.Errorf("a range of the brotli body: %d %q", r.status, r.body)
	}
}
