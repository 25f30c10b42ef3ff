package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Executions stores state machine executions (ports.Executions).
type Executions struct{ db *DB }

// Executions returns the execution store in db.
func (db *DB) Executions() *Executions { return &Executions{db: db} }

var _ ports.Executions = (*Executions)(nil)

const executionColumns = `name, state_machine, status, input, output, error, cause, started_at, stopped_at, checkpoint, wake_at, version, events`

func nullableJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func executionArgs(e ports.Execution) []any {
	return []any{e.Name, e.StateMachine, e.Status, string(e.Input), nullableJSON(e.Output), e.Error, e.Cause,
		formatTime(e.StartedAt), formatTime(e.StoppedAt), nullableJSON(e.Checkpoint), formatTime(e.WakeAt), e.Version, e.Events}
}

func scanExecution(s scanner) (ports.Execution, error) {
	var e ports.Execution
	var input, started, stopped, wake string
	var output, checkpoint sql.NullString
	if err := s.Scan(&e.Name, &e.StateMachine, &e.Status, &input, &output, &e.Error, &e.Cause, &started, &stopped, &checkpoint, &wake, &e.Version, &e.Events); err != nil {
		return e, err
	}
	e.Input = json.RawMessage(input)
	if output.Valid {
		e.Output = json.RawMessage(output.String)
	}
	if checkpoint.Valid {
		e.Checkpoint = json.RawMessage(checkpoint.String)
	}
	var err error
	if e.StartedAt, err = parseTime(started); err != nil {
		return e, err
	}
	if e.StoppedAt, err = parseTime(stopped); err != nil {
		return e, err
	}
	e.WakeAt, err = parseTime(wake)
	return e, err
}

func insertEvents(tx *txn, events []ports.ExecutionEvent) error {
	for _, ev := range events {
		if _, err := tx.exec(`INSERT INTO execution_events (execution, seq, type, state, at, details) VALUES (?, ?, ?, ?, ?, ?)`,
			ev.Execution, ev.Seq, ev.Type, ev.State, formatTime(ev.At), nullableJSON(ev.Details)); err != nil {
			if isConstraint(err) {
				return fmt.Errorf("event %d of %s: %w", ev.Seq, ev.Execution, ports.ErrConflict)
			}
			return err
		}
	}
	return nil
}

func (s *Executions) Start(ctx context.Context, e ports.Execution, events []ports.ExecutionEvent) (ports.Execution, bool, error) {
	var stored ports.Execution
	created := false
	err := s.db.tx(ctx, func(tx *txn) error {
		existing, err := scanExecution(tx.queryRow(`SELECT `+executionColumns+` FROM executions WHERE name = ?`, e.Name))
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.exec(`INSERT INTO executions (`+executionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, executionArgs(e)...); err != nil {
			return err
		}
		stored, created = e, true
		return insertEvents(tx, events)
	})
	if err != nil {
		return ports.Execution{}, false, fmt.Errorf("start execution %s: %w", e.Name, err)
	}
	return stored, created, nil
}

func (s *Executions) Get(ctx context.Context, name string) (ports.Execution, error) {
	e, err := scanExecution(s.db.queryRow(ctx, `SELECT `+executionColumns+` FROM executions WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("execution %s: %w", name, ports.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("execution %s: %w", name, err)
	}
	return e, nil
}

// StepScope lets the executor's tasks write without waiting for their own
// commit; the Advance that ends their step waits for it (see stepScope).
func (s *Executions) StepScope(ctx context.Context) context.Context { return s.db.StepScope(ctx) }

func (s *Executions) Advance(ctx context.Context, e ports.Execution, events []ports.ExecutionEvent) error {
	err := s.db.txStepEnd(ctx, func(tx *txn) error {
		args := append(executionArgs(e)[1:], e.Name, e.Version-1)
		res, err := tx.exec(`UPDATE executions SET state_machine = ?, status = ?, input = ?, output = ?, error = ?, cause = ?,
			started_at = ?, stopped_at = ?, checkpoint = ?, wake_at = ?, version = ?, events = ? WHERE name = ? AND version = ?`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("not at version %d: %w", e.Version-1, ports.ErrConflict)
		}
		return insertEvents(tx, events)
	})
	if err != nil {
		return fmt.Errorf("advance execution %s: %w", e.Name, err)
	}
	return nil
}

func (s *Executions) Due(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.db.query(ctx, `SELECT name FROM executions WHERE status = 'RUNNING' AND wake_at <= ? ORDER BY wake_at, started_at LIMIT ?`, formatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due executions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("due executions: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

func (s *Executions) NextWake(ctx context.Context, now time.Time) (time.Time, error) {
	var next sql.NullString
	if err := s.db.queryRow(ctx, `SELECT MIN(wake_at) FROM executions WHERE status = 'RUNNING' AND wake_at > ?`, formatTime(now)).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next wake: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return parseTime(next.String)
}

func (s *Executions) History(ctx context.Context, name string) ([]ports.ExecutionEvent, error) {
	rows, err := s.db.query(ctx, `SELECT seq, type, state, at, details FROM execution_events WHERE execution = ? ORDER BY seq`, name)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	defer rows.Close()
	var out []ports.ExecutionEvent
	for rows.Next() {
		ev := ports.ExecutionEvent{Execution: name}
		var at string
		var details sql.NullString
		if err := rows.Scan(&ev.Seq, &ev.Type, &ev.State, &at, &details); err != nil {
			return nil, fmt.Errorf("history of %s: %w", name, err)
		}
		if ev.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if details.Valid {
			ev.Details = json.RawMessage(details.String)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("history of %s: %w", name, ports.ErrNotFound)
	}
	return out, nil
}
