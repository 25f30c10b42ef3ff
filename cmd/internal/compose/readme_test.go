package compose

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEverySettingIsInTheREADME: the README's configuration table names
// every flag and its environment variable, so the documentation cannot
// fall behind the code.
func TestEverySettingIsInTheREADME(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "## Configuration")
	if !ok {
		t.Fatal(`the README has no "## Configuration" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	var usage bytes.Buffer
	_, _ = ParseConfig("serve", []string{"-h"}, func(string) string { return "" }, &usage)
	settings := regexp.MustCompile(`(?m)^\s+-([a-z-]+).*\n.*\[([A-Z_]+)\]`).FindAllStringSubmatch(usage.String(), -1)
	if len(settings) < 25 {
		t.Fatalf("found %d settings in the usage:\n%s", len(settings), usage.String())
	}
	for _, s := range settings {
		if !strings.Contains(table, "`-"+s[1]+"`") {
			t.Errorf("the README's configuration table does not list -%s", s[1])
		}
		if !strings.Contains(table, s[2]) {
			t.Errorf("the README's configuration table does not list %s (of -%s)", s[2], s[1])
		}
	}
}
