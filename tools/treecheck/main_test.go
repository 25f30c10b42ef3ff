package main

import "testing"

func TestRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		size  int64
		head  string
		wantE bool
	}{
		{"main.go", 900, "package main", false},
		{"docs/screenshots/store.png", 600_000, "\x89PNG\r\n\x1a\n", false},
		{"cmd/unicorn/data/unicorn.db", 4096, "SQLite format 3\x00", true},
		{"unicorn", 22_000_000, "\x7fELF\x02\x01\x01", true},
		{"bin/tool", 100, "\xcf\xfa\xed\xfe", true},
		{"tool.exe", 100, "MZ\x90\x00", true},
		{"state.sqlite", 0, "", true},
		{"data.json", 2 << 20, "{", true},
		{"webapp/package-lock.json", 140_000, "{", false},
	}
	for _, tt := range tests {
		why := refuse(tt.name, tt.size, []byte(tt.head))
		if (why != "") != tt.wantE {
			t.Errorf("refuse(%s) = %q, want refused: %v", tt.name, why, tt.wantE)
		}
	}
}

func TestUnderBuildFolder(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		".cache/dynamodb-local/DynamoDBLocal.jar": true,
		"webapp/node_modules/react/index.js":      true,
		"webapp/dist/index.html":                  true,
		"data/unicorn.db":                         false,
		"cmd/unicorn/data/unicorn.db":             false,
		"adapters/sqlite/x.db":                    false,
	} {
		if got := underBuildFolder(path); got != want {
			t.Errorf("underBuildFolder(%s) = %v, want %v", path, got, want)
		}
	}
}
