package identity

import (
	"strings"
	"testing"
)

func TestPasswordHashes(t *testing.T) {
	p := HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}
	h1, err := hashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword("correct horse battery", p)
	if h1 == h2 || !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hashes %q and %q: want argon2id with a fresh salt each", h1, h2)
	}
	for _, tt := range []struct {
		password, hash string
		ok, err        bool
	}{
		{"correct horse battery", h1, true, false},
		{"correct horse batterY", h1, false, false},
		{"", h1, false, false},
		{"correct horse battery", strings.Replace(h1, "t=1", "t=2", 1), false, false}, // other costs, other key
		{"x", "$2a$10$bcrypt", false, true},
		{"x", "$argon2id$v=19$m=64,t=1,p=1$!!$!!", false, true},
		{"x", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$a2V5", false, true},
	} {
		ok, err := checkPassword(tt.password, tt.hash)
		if ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("checkPassword(%q, %q) = %v, %v", tt.password, tt.hash, ok, err)
		}
	}
}
