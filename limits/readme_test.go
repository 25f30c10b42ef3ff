package limits

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestEveryLimitIsInTheREADME: the README's table of limits names every
// constant of this package, so a new limit cannot go unlisted.
func TestEveryLimitIsInTheREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(readme), "## Limits")
	if start < 0 {
		t.Fatal(`the README has no "## Limits" section`)
	}
	section := string(readme[start:])
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	f, err := parser.ParseFile(token.NewFileSet(), "limits.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for _, name := range spec.(*ast.ValueSpec).Names {
				if !name.IsExported() || name.Name == "IDRule" {
					continue // IDRule is the wording of IDChars' rule
				}
				listed++
				if !strings.Contains(section, "`"+name.Name+"`") {
					t.Errorf("the README's limits do not list %s", name.Name)
				}
			}
		}
	}
	if listed < 20 {
		t.Errorf("only %d limits found: is the parse broken?", listed)
	}
}
