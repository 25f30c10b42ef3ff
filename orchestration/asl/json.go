package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decode reads a JSON value, numbers kept exact.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	// Not dec.More(), which answers false before a "]" or "}", so that
	// {"a":1}] would pass as one value.
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// Encode writes a JSON value compactly.
func Encode(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// copyJSON copies a decoded JSON value deeply, so that a state can change
// its copy without touching its input.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = copyJSON(x)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, x := range v {
			a[i] = copyJSON(x)
		}
		return a
	}
	return v
}
