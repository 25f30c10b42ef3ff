package httpapi

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed images/*.svg
var imageFiles embed.FS

// images serves the demo catalog's pictures at /images/.
func images() http.Handler {
	files := http.FileServerFS(imageFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if info, err := fs.Stat(imageFiles, name); err != nil || info.IsDir() {
			writeProblem(w, Problem{Type: problemType("not-found"), Title: "Not Found", Status: http.StatusNotFound,
				Detail: "no image " + r.URL.Path, Instance: r.URL.Path})
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
