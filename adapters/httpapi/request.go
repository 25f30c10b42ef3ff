package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/unicornstore/unicorn/limits"
)

// decodeBody reads a JSON object into dst, strictly: unknown fields,
// trailing data and wrong types are errors that name the field.
func decodeBody(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, dst)
}

// decodeBytes is decodeBody on a body already read.
func decodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badRequest("", "request body has data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("", fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: the body ends too early")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("", fmt.Sprintf("the body must be a JSON object, not %s", typ.Value))
		}
		return badRequest(typ.Field, fmt.Sprintf("%s must be %s, not %s", typ.Field, jsonTypeName(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(field, fmt.Sprintf("unknown field %q", field))
	}
	return badRequest("", "malformed JSON: "+err.Error())
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int64", "int", "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + kind
}

// wholeNumber reads a required JSON number that must be a whole number
// (100 and 100.0 are; 100.5, "100" and 1e400 are not).
func wholeNumber(field string, raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	switch {
	case s == "" || s == "null":
		return 0, badRequest(field, field+" is required")
	case s[0] == '"':
		return 0, badRequest(field, field+" must be a number, not a string")
	case s == "true" || s == "false" || s[0] == '{' || s[0] == '[':
		return 0, badRequest(field, field+" must be a number")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	// 100.0 and 1e2 are whole numbers too; a megabyte of digits or an
	// exponent of ten million is refused before any arithmetic.
	d, ok := limits.Decimal(s)
	switch {
	case !ok:
		return 0, badRequest(field, fmt.Sprintf("%s must be a number of at most %d digits", field, limits.NumberDigits))
	case !d.IsInteger():
		return 0, badRequest(field, field+" must be a whole number")
	case !d.BigInt().IsInt64():
		return 0, badRequest(field, field+" is out of range")
	}
	return d.IntPart(), nil
}

// required checks that a string field was sent.
func required(field, v string) error {
	if v == "" {
		return badRequest(field, field+" is required")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody reads the whole body; one over the limit is a 413.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &requestError{kind{http.StatusRequestEntityTooLarge, "too-large", "Request body too large", ""},
			fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit)}
	}
	if err != nil {
		return nil, badRequest("", "could not read the request body: "+err.Error())
	}
	return body, nil
}
