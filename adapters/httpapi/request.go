package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return badRequest("", "request body is empty: send a JSON object")
	}
	if trimmed[0] != '{' {
		// null would decode into dst as nothing at all: a body that
		// asks for the defaults of every field without saying so.
		return badRequest("", "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	// Not dec.More(), which answers false before a "]" or "}": the body
	// {"account_id":"1234"}] would pass as one object.
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
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

// readBody reads the whole body of a request to a handler, which must be
// JSON: sent as JSON (415 otherwise), at most limits.BodyBytes long (413),
// UTF-8, and naming no member of an object twice (400). The access check reads bodies with peekBody and
// decodeBytes instead, leniently: whatever it reads, the handler reads the
// same or refuses the body.
func readBody(r *http.Request) ([]byte, error) {
	if err := jsonContent(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &requestError{kind{http.StatusRequestEntityTooLarge, "too-large", "Request body too large", ""},
			fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit)}
	}
	if err != nil {
		return nil, badRequest("", "could not read the request body: "+err.Error())
	}
	if !utf8.Valid(body) {
		// The decoder would quietly turn the bytes into U+FFFD instead.
		return nil, badRequest("", "request body is not UTF-8 text")
	}
	if err := uniqueNames(body); err != nil {
		return nil, err
	}
	return body, nil
}

// jsonContent refuses a body sent as anything but JSON: application/json
// or a JSON type of its own (application/merge-patch+json), in UTF-8. A
// form, text or multipart body is what a browser sends to another origin
// without asking first; and a client that labels JSON as something else
// is mistaken about what it sends. A body without a Content-Type is read
// as JSON, the only thing the API takes: scripts and simple clients send
// none.
func jsonContent(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	isJSON := err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
	if charset, ok := params["charset"]; isJSON && (!ok || strings.EqualFold(charset, "utf-8")) {
		return nil
	}
	return &requestError{kind{http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Content-Type"},
		fmt.Sprintf("the body must be JSON in UTF-8 (Content-Type: application/json), not %q", ct)}
}

// uniqueNames refuses a JSON text in which an object names a member twice,
// or two members alike but for case. Decoders disagree on such a text:
// this one keeps the last of the names it takes as one, without regard to
// case; a gateway, a log or a firewall in front may read the first, or
// keep both. A text that is not JSON, or nested deeper than the decoder
// goes, passes: the decoder then says what is wrong with it.
func uniqueNames(body []byte) error {
	type level struct {
		names  map[string]string // of an object: folded name -> the name as sent
		object bool
		key    bool // the next token of this object is a member's name
	}
	var stack []level
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil || len(stack) > maxNesting {
			return nil // the end, or not JSON: the decoder refuses it
		}
		var top *level
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '}', ']':
				stack = stack[:len(stack)-1]
			default:
				if top != nil && top.object {
					top.key = true // this object or array is a member's value
				}
				l := level{object: tok == '{', key: tok == '{'}
				if l.object {
					l.names = map[string]string{}
				}
				stack = append(stack, l)
			}
		default:
			switch {
			case top == nil || !top.object:
			case !top.key:
				top.key = true
			default:
				name := tok.(string)
				folded := foldName(name)
				if first, ok := top.names[folded]; ok {
					if first == name {
						return badRequest(name, fmt.Sprintf("the body names %q twice in one object", name))
					}
					return badRequest(name, fmt.Sprintf("the body names %q and %q in one object, which read as one field", first, name))
				}
				top.names[folded] = name
				top.key = false
			}
		}
	}
}

// maxNesting is how deep uniqueNames follows a body: as deep as the
// decoder, which refuses a body nested deeper.
const maxNesting = 10000

// foldName maps a name to the same string as every name equal to it
// without regard to case (as strings.EqualFold compares them, and as the
// decoder matches names to fields): each character becomes the smallest
// of its case-folding orbit.
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
