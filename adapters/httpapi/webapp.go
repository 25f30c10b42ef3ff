package httpapi

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
)

// The web app is a directory built by Vite: index.html, assets/ with names
// that change with their content, and favicon.svg. It calls the API from
// the same origin and routes with the URL's fragment (/#/store), so / is
// its only page: no other path falls back to index.html.

const (
	// index.html names the current assets, so it is always revalidated.
	revalidate = "no-cache"
	// An asset's content never changes under its name.
	immutable = "public, max-age=31536000, immutable"
)

// notBuilt is what / shows when there is no web app to serve.
const notBuilt = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Unicorn Store</title>
<h1>The web app is not built</h1>
<p>The API works. To shop in a browser, build the web app with <code>make webapp</code> and reload this page.</p>
</html>
`

// WebAppDir is the web app built into dir, as an fs.FS that never leaves
// dir: a symbolic link pointing out of it is refused (os.Root), where
// os.DirFS would follow it. The directory may appear after start-up (the
// app built while the server runs): it is opened for each file.
func WebAppDir(dir string) fs.FS { return rootedDir(dir) }

type rootedDir string

func (d rootedDir) Open(name string) (fs.File, error) {
	root, err := os.OpenRoot(string(d))
	if err != nil {
		return nil, err
	}
	defer root.Close() // an open file outlives its root
	return root.Open(name)
}

// WebAppBuilt reports whether dir holds a built web app. / asks on every
// request, so that a build made while the server runs is served.
func WebAppBuilt(dir fs.FS) bool {
	if dir == nil {
		return false
	}
	info, err := fs.Stat(dir, "index.html")
	return err == nil && info.Mode().IsRegular()
}

func (s *server) webAppIndex(w http.ResponseWriter, r *http.Request) {
	if !WebAppBuilt(s.webApp) {
		w.Header().Set("Cache-Control", revalidate)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, notBuilt)
		return
	}
	serveFile(w, r, s.webApp, "index.html", revalidate)
}

func (s *server) webAppAsset(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, s.webApp, "assets/"+strings.TrimPrefix(r.URL.Path, "/assets/"), immutable)
}

func (s *server) favicon(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, s.webApp, "favicon.svg", revalidate)
}

// The build writes name.br and name.gz beside each file worth compressing
// (make webapp): a file is sent in the best encoding the browser accepts
// that exists beside it, else as it is. The sibling is found on disk, not
// guessed from the name, so an asset too small to compress is simply sent.
var encodings = []struct{ token, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// accepts reports whether an Accept-Encoding header admits coding: named
// (or "*") with a q above zero.
func accepts(header, coding string) bool {
	ok := false
	for _, part := range strings.Split(header, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		token = strings.ToLower(strings.TrimSpace(token))
		if token != coding && token != "*" {
			continue
		}
		q := 1.0
		for _, param := range strings.Split(params, ";") {
			k, v, found := strings.Cut(strings.TrimSpace(param), "=")
			if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		if token == coding {
			return q > 0 // the coding's own entry overrides "*"
		}
		ok = q > 0
	}
	return ok
}

// serveFile serves the regular file name of dir with the cache policy, or
// a 404. fs.ValidPath refuses any name that could leave dir ("..", a
// leading slash), and a directory is never listed.
func serveFile(w http.ResponseWriter, r *http.Request, dir fs.FS, name, cache string) {
	if dir == nil || !fs.ValidPath(name) || strings.ContainsAny(name, "\x00\\") {
		noFile(w, r)
		return
	}
	// Every answer depends on Accept-Encoding, sent compressed or not: a
	// cache must not hand a brotli body to a browser that did not ask.
	w.Header().Add("Vary", "Accept-Encoding")
	for _, e := range encodings {
		if !accepts(r.Header.Get("Accept-Encoding"), e.token) {
			continue
		}
		if serveEncoded(w, r, dir, name, e.token, e.suffix, cache) {
			return
		}
	}
	f, err := dir.Open(name)
	if err != nil {
		// Missing, a link out of the directory, a name the system refuses:
		// no file to serve, whatever the reason.
		if !errors.Is(err, fs.ErrNotExist) {
			logFor(r).Warn("web app file refused", "name", name, "err", err)
		}
		noFile(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !info.Mode().IsRegular() {
		noFile(w, r)
		return
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		// Every fs.FS of the standard library seeks; another might not.
		b, err := io.ReadAll(f)
		if err != nil {
			writeError(w, r, err)
			return
		}
		content = bytes.NewReader(b)
	}
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, info.Name(), info.ModTime(), content)
}

func noFile(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, Problem{Type: problemType("not-found"), Title: "Not Found", Status: http.StatusNotFound,
		Detail: "no file " + r.URL.Path, Instance: r.URL.Path})
}

// serveEncoded serves name's precompressed sibling if it exists (and name
// itself does: a stray .br never stands for a missing file), typed as name.
func serveEncoded(w http.ResponseWriter, r *http.Request, dir fs.FS, name, coding, suffix, cache string) bool {
	if info, err := fs.Stat(dir, name); err != nil || !info.Mode().IsRegular() {
		return false
	}
	f, err := dir.Open(name + suffix)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		return false
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Encoding", coding)
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, name, info.ModTime(), content)
	return true
}
