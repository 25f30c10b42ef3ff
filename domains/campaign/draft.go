package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeDraft reads a campaign definition strictly: a field of the wrong
// type or an unknown field is a problem at that field.
func DecodeDraft(raw []byte) (Draft, error) {
	var d Draft
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		var p problems
		var typ *json.UnmarshalTypeError
		var syn *json.SyntaxError
		msg := err.Error()
		switch {
		case errors.As(err, &typ) && typ.Field != "":
			p.add(typ.Field, "%s must be %s, not %s", typ.Field, kindName(typ.Type.Kind().String()), typ.Value)
		case errors.As(err, &typ):
			p.add("", "a campaign must be a JSON object, not %s", typ.Value)
		case strings.HasPrefix(msg, "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
			p.add(field, "unknown field %q", field)
		case errors.As(err, &syn):
			p.add("", "malformed JSON at byte %d: %v", syn.Offset, syn)
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			p.add("", "the campaign must be a JSON object")
		default:
			p.add("", "%v", err)
		}
		return d, p.err()
	}
	if dataAfter(raw, dec) {
		return d, &ValidationError{Problems: []Problem{{Field: "", Message: "data after the campaign's JSON object"}}}
	}
	return d, nil
}

// dataAfter reports whether raw holds more than the value dec decoded
// from it. Not dec.More(), which answers false before a "]" or "}", so
// that {...}] would pass as one object.
func dataAfter(raw []byte, dec *json.Decoder) bool {
	return len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0
}

func kindName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64":
		return "a whole number"
	}
	return "a " + kind
}

// mergePatch applies an RFC 7396 JSON merge patch to doc: members set to
// null are removed, objects merge, anything else replaces.
func mergePatch(doc, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			dv, ok := doc[k].(map[string]any)
			if !ok {
				dv = map[string]any{}
			}
			mergePatch(dv, pv)
			doc[k] = dv
		default:
			doc[k] = v
		}
	}
}

// applyPatch returns the draft d changed by a JSON merge patch. The client
// and the name cannot change.
func applyPatch(d Draft, patch []byte) (Draft, error) {
	var changes map[string]any
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&changes); err != nil || changes == nil {
		return d, &ValidationError{Problems: []Problem{{Message: "a change must be a JSON object (a JSON merge patch)"}}}
	}
	if dataAfter(patch, dec) {
		return d, &ValidationError{Problems: []Problem{{Message: "data after the change's JSON object"}}}
	}
	var p problems
	for field, current := range map[string]string{"client": d.Client, "campaign_name": d.Name} {
		if v, ok := changes[field]; ok && v != current {
			p.add(field, "%s cannot change: create a new campaign instead", field)
		}
	}
	if err := p.err(); err != nil {
		return d, err
	}
	base, err := json.Marshal(d)
	if err != nil {
		return d, fmt.Errorf("encode campaign: %w", err)
	}
	var doc map[string]any
	dec = json.NewDecoder(bytes.NewReader(base))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return d, fmt.Errorf("decode campaign: %w", err)
	}
	mergePatch(doc, changes)
	merged, err := json.Marshal(doc)
	if err != nil {
		return d, fmt.Errorf("encode patched campaign: %w", err)
	}
	return DecodeDraft(merged)
}
