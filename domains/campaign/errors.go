package campaign

import (
	"errors"
	"fmt"
	"strings"
)

// Domain errors, mapped to HTTP statuses by the HTTP adapter.
var (
	// ErrInvalid: the campaign definition is wrong; the *ValidationError
	// says where.
	ErrInvalid = errors.New("invalid campaign")
	// ErrNotFound: no such campaign.
	ErrNotFound = errors.New("campaign not found")
	// ErrExists: a campaign of that name already exists for the client.
	ErrExists = errors.New("campaign already exists")
	// ErrStale: the campaign changed since the version the caller read.
	ErrStale = errors.New("campaign changed since the version given")
	// ErrInvalidEvent: the purchase event is not usable.
	ErrInvalidEvent = errors.New("invalid purchase event")
)

// Problem is one thing wrong with a definition, at a field such as
// "rules[2].action.formula"; Position is the character offset in a formula.
type Problem struct {
	Field    string `json:"field"`
	Message  string `json:"message"`
	Position *int   `json:"position,omitempty"`
}

// ValidationError lists everything wrong with a definition, and the
// warnings about it (what may be a mistake, but need not be).
// errors.Is(err, ErrInvalid) holds.
type ValidationError struct {
	Problems []Problem
	Warnings []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+p.Message)
	}
	return "invalid campaign: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects Problems while a definition is checked, and the
// event paths it reads, for the checks that look at all of them.
type problems struct {
	list     []Problem
	warnings []Problem
	uses     []pathUse
}

// pathUse is a path a definition reads, at a field (and position in a
// formula).
type pathUse struct {
	field    string
	position *int
	path     *path
}

func (p *problems) use(field string, position *int, pth *path) {
	p.uses = append(p.uses, pathUse{field: field, position: position, path: pth})
}

func (p *problems) add(field, format string, args ...any) {
	p.list = append(p.list, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) addAt(field string, pos int, format string, args ...any) {
	p.list = append(p.list, Problem{Field: field, Message: fmt.Sprintf(format, args...), Position: &pos})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list, Warnings: p.warnings}
}
