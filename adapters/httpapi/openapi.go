package httpapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// The API's contract is an OpenAPI 3.1 document, openapi.json, written by
// hand rather than built from Go code. It is what callers read, and the web
// app's build generates its API types from the same file, so it has to be a
// file in the tree that needs no Go to produce. Written by hand, it says
// what a reader needs (descriptions, examples, which errors a route gives)
// instead of what reflection over the handlers' types could find, and the
// handlers' types stay free of annotations. It cannot drift unnoticed:
// the tests check that its operations are exactly the route table's, and
// validate every request and response of the HTTP tests against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIETag names the document's content, so that a client revalidates
// a cached copy instead of trusting it after the server changes.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", revalidate)
	h.Set("ETag", openAPIETag)
	http.ServeContent(w, r, "openapi.json", time.Time{}, bytes.NewReader(openAPIDocument))
}
