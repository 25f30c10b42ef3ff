package campaign

import (
	"errors"
	"testing"
)

// TestDataAfterTheValue: a campaign, a change or an event followed by
// anything but white space is refused, "]" and "}" too (a decoder's More
// reports false before them, which let {...}] pass as one object).
func TestDataAfterTheValue(t *testing.T) {
	t.Parallel()
	for _, tail := range []string{"]", "}", " ]", "\n}", "x", " {}", ","} {
		if _, err := ParseEvent([]byte(`{"amount":1}` + tail)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("event with %q after it: %v, want ErrInvalidEvent", tail, err)
		}
		var ve *ValidationError
		if _, err := DecodeDraft([]byte(`{"client":"c","campaign_name":"n","rules":[]}` + tail)); !errors.As(err, &ve) {
			t.Errorf("campaign with %q after it: %v, want a *ValidationError", tail, err)
		}
		if _, err := applyPatch(Draft{Client: "c", Name: "n"}, []byte(`{"priority":2}`+tail)); !errors.As(err, &ve) {
			t.Errorf("change with %q after it: %v, want a *ValidationError", tail, err)
		}
	}
	if _, err := ParseEvent([]byte("{\"amount\":1} \n\t")); err != nil {
		t.Errorf("white space after an event: %v", err)
	}
	if _, err := DecodeDraft([]byte(`{"client":"c","campaign_name":"n","rules":[]}` + "\n")); err != nil {
		t.Errorf("white space after a campaign: %v", err)
	}
}
