// The import rules of DESIGN.md, checked on every file (tests included):
// business rules cannot leak into storage code, and the domains cannot
// depend on how they are stored or served.
package unicorn_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/unicornstore/unicorn/"

// drivingAdapters call the domains (HTTP requests, Lambda events, the
// saga's tasks); every other adapter is driven and must not know them.
var drivingAdapters = map[string]bool{"httpapi": true, "lambda": true, "sagatasks": true}

// storageOrTransport is what a domain must never import.
var storageOrTransport = []string{"database/sql", "net/http", "github.com/aws/", "modernc.org/", "github.com/unicornstore/unicorn/adapters/"}

func TestImportRules(t *testing.T) {
	imports := map[string][]string{} // file -> imports within reach of the rules
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "testdata", "infrastructure", "tools", ".git", ".cache":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[filepath.ToSlash(path)] = append(imports[filepath.ToSlash(path)], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for file, imps := range imports {
		dir := filepath.ToSlash(filepath.Dir(file))
		for _, imp := range imps {
			var broken string
			switch {
			case strings.HasPrefix(imp, module+"cmd") && !(strings.HasPrefix(imp, module+"cmd/internal/") && strings.HasPrefix(dir, "cmd/")):
				// cmd/internal holds the composition the main packages share.
				broken = "nothing imports a main package"
			case strings.HasPrefix(dir, "domains/"):
				checked["domains"]++
				for _, bad := range storageOrTransport {
					if strings.HasPrefix(imp, bad) {
						broken = "a domain imports storage or transport"
					}
				}
			case dir == "ports" || strings.HasPrefix(dir, "ports/"):
				checked["ports"]++
				if strings.HasPrefix(imp, module+"domains") || strings.HasPrefix(imp, module+"adapters") {
					broken = "ports import neither domains nor adapters"
				}
			case (dir == "orchestration" || strings.HasPrefix(dir, "orchestration/")) && !strings.HasSuffix(file, "_test.go"):
				// The definitions and the executor run on ports; which
				// storage is the composition root's choice (its tests use
				// SQLite).
				checked["orchestration"]++
				if strings.HasPrefix(imp, module+"adapters") || strings.HasPrefix(imp, module+"domains") {
					broken = "orchestration imports an adapter or a domain"
				}
			case dir == "limits":
				checked["limits"]++
				if strings.HasPrefix(imp, module) {
					broken = "the limits import nothing of the store"
				}
			case strings.HasPrefix(dir, "adapters/"):
				adapter := strings.Split(dir, "/")[1]
				switch {
				case !drivingAdapters[adapter]:
					checked["driven adapters"]++
					if strings.HasPrefix(imp, module+"domains") {
						broken = "a driven adapter (" + adapter + ") imports a domain"
					}
				case !strings.HasSuffix(file, "_test.go"):
					// A driving adapter calls the domains and never knows
					// how they store: only cmd/ (and tests, which wire
					// real storage) put the two together.
					checked["driving adapters"]++
					if strings.HasPrefix(imp, module+"adapters/") && !strings.HasPrefix(imp, module+"adapters/"+adapter) {
						broken = "a driving adapter (" + adapter + ") imports another adapter"
					}
				}
			}
			if broken != "" {
				t.Errorf("%s imports %s: %s", file, imp, broken)
			}
		}
	}
	for _, layer := range []string{"domains", "ports", "driven adapters", "driving adapters", "orchestration", "limits"} {
		if checked[layer] == 0 {
			t.Errorf("no imports of %s were checked: is the walk broken?", layer)
		}
	}
}
