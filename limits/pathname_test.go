package limits

import (
	"strings"
	"testing"
)

// TestPathName: every id names something a path reaches but "." and "..",
// which are dot segments; dots among other characters are fine.
func TestPathName(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		".": false, "..": false, "": false, "a/b": false, strings.Repeat("x", IDChars+1): false,
		"...": true, ".a": true, "a.": true, "..a": true, "derick": true, strings.Repeat(".", IDChars): true,
	} {
		if got := PathName(id); got != want {
			t.Errorf("PathName(%q) = %v, want %v", id, got, want)
		}
	}
}
