package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Executions stores the local executor's executions on DynamoDB
// (ports.Executions), so that `unicorn serve` can run on DynamoDB alone.
// In the executions table, pk is the execution's name; sk 0 is the
// execution, sk n its n-th history event. A running execution carries
// rk "R" and wk "<wake time>|<name>", the keys of the sparse index "due":
// Due and NextWake query only running executions, by wake time.
//
// Start and Advance are one transaction each: the execution, on condition
// that it is new or at the previous version, and its new events.
type Executions struct {
	client *ddb.Client
	table  string
}

// Executions returns the store's executions.
func (s *Store) Executions() *Executions {
	return &Executions{client: s.client, table: s.tables.Executions}
}

var _ ports.Executions = (*Executions)(nil)

// maxTransitionEvents keeps a transition within one transaction (100
// items, one of which is the execution).
const maxTransitionEvents = 99

func executionKey(name string, seq int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(name), "sk": num(seq)}
}

func executionItem(e ports.Execution) map[string]types.AttributeValue {
	m := executionKey(e.Name, 0)
	m["machine"], m["status"], m["input"] = str(e.StateMachine), str(e.Status), str(string(e.Input))
	m["error"], m["cause"], m["started"], m["stopped"] = str(e.Error), str(e.Cause), str(formatTime(e.StartedAt)), str(formatTime(e.StoppedAt))
	m["wake"], m["version"], m["events"] = str(formatTime(e.WakeAt)), num(e.Version), num(e.Events)
	if e.Output != nil {
		m["output"] = str(string(e.Output))
	}
	if e.Checkpoint != nil {
		m["checkpoint"] = str(string(e.Checkpoint))
	}
	if e.Status == ports.ExecutionRunning {
		// Only running executions are in the due index.
		m["rk"], m["wk"] = str("R"), str(formatTime(e.WakeAt)+"|"+e.Name)
	}
	return m
}

func executionFrom(m map[string]types.AttributeValue) (ports.Execution, error) {
	it := item{m: m}
	e := ports.Execution{Name: it.str("pk"), StateMachine: it.str("machine"), Status: it.str("status"), Input: json.RawMessage(it.str("input")),
		Error: it.str("error"), Cause: it.str("cause"), StartedAt: it.time("started"), StoppedAt: it.time("stopped"), WakeAt: it.time("wake"),
		Version: it.num("version"), Events: it.num("events")}
	if _, ok := m["output"]; ok {
		e.Output = json.RawMessage(it.str("output"))
	}
	if _, ok := m["checkpoint"]; ok {
		e.Checkpoint = json.RawMessage(it.str("checkpoint"))
	}
	return e, it.err
}

func (s *Executions) eventPuts(events []ports.ExecutionEvent) ([]types.TransactWriteItem, error) {
	if len(events) > maxTransitionEvents {
		return nil, fmt.Errorf("%d events in one transition, at most %d", len(events), maxTransitionEvents)
	}
	out := make([]types.TransactWriteItem, 0, len(events))
	for _, ev := range events {
		m := executionKey(ev.Execution, ev.Seq)
		m["type"], m["state"], m["at"] = str(ev.Type), str(ev.State), str(formatTime(ev.At))
		if ev.Details != nil {
			m["details"] = str(string(ev.Details))
		}
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: m, ConditionExpression: aws.String("attribute_not_exists(pk)")}})
	}
	return out, nil
}

func (s *Executions) Start(ctx context.Context, e ports.Execution, events []ports.ExecutionEvent) (ports.Execution, bool, error) {
	puts, err := s.eventPuts(events)
	if err != nil {
		return ports.Execution{}, false, fmt.Errorf("start execution %s: %w", e.Name, err)
	}
	writes := append([]types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: executionItem(e),
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}}, puts...)
	for attempt := 0; attempt < raceAttempts; attempt++ {
		if err := pause(ctx, min(attempt, 2)); err != nil {
			return ports.Execution{}, false, err
		}
		_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
		if err == nil {
			return e, true, nil
		}
		if !lostRace(err) {
			return ports.Execution{}, false, fmt.Errorf("start execution %s: %w", e.Name, err)
		}
		// The name exists, or a concurrent start of it is being written:
		// the stored one answers, else try again.
		stored, err := s.Get(ctx, e.Name)
		if err == nil {
			return stored, false, nil
		}
		if !errors.Is(err, ports.ErrNotFound) {
			return ports.Execution{}, false, fmt.Errorf("start execution %s: %w", e.Name, err)
		}
	}
	return ports.Execution{}, false, fmt.Errorf("start execution %s: %d attempts lost to concurrent starts: %w", e.Name, raceAttempts, ports.ErrConflict)
}

func (s *Executions) Get(ctx context.Context, name string) (ports.Execution, error) {
	out, err := s.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(s.table), Key: executionKey(name, 0), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ports.Execution{}, fmt.Errorf("execution %s: %w", name, err)
	}
	if out.Item == nil {
		return ports.Execution{}, fmt.Errorf("execution %s: %w", name, ports.ErrNotFound)
	}
	e, err := executionFrom(out.Item)
	if err != nil {
		return e, fmt.Errorf("execution %s: %w", name, err)
	}
	return e, nil
}

func (s *Executions) Advance(ctx context.Context, e ports.Execution, events []ports.ExecutionEvent) error {
	puts, err := s.eventPuts(events)
	if err != nil {
		return fmt.Errorf("advance execution %s: %w", e.Name, err)
	}
	writes := append([]types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: executionItem(e),
		ConditionExpression:       aws.String("version = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": num(e.Version - 1)}}}}, puts...)
	_, err = s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
	if lostRace(err) {
		return fmt.Errorf("advance execution %s: not at version %d: %w", e.Name, e.Version-1, ports.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("advance execution %s: %w", e.Name, err)
	}
	return nil
}

// Due reads the due index, which only running executions are in, up to
// now. Like every index it is eventually consistent: an execution that
// just ended may still be listed, and the executor then finds it ended.
func (s *Executions) Due(ctx context.Context, now time.Time, limit int) ([]string, error) {
	out, err := s.client.Query(ctx, &ddb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(dueIndex),
		// "}" sorts after "|": every execution waking at now is included.
		KeyConditionExpression:    aws.String("rk = :r AND wk < :until"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": str("R"), ":until": str(formatTime(now) + "}")},
		Limit:                     aws.Int32(int32(limit))})
	if err != nil {
		return nil, fmt.Errorf("due executions: %w", err)
	}
	names := make([]string, 0, len(out.Items))
	for _, m := range out.Items {
		it := item{m: m}
		names = append(names, it.str("pk"))
		if it.err != nil {
			return nil, fmt.Errorf("due executions: %w", it.err)
		}
	}
	return names, nil
}

func (s *Executions) NextWake(ctx context.Context, now time.Time) (time.Time, error) {
	out, err := s.client.Query(ctx, &ddb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(dueIndex),
		KeyConditionExpression:    aws.String("rk = :r AND wk > :after"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": str("R"), ":after": str(formatTime(now) + "}")},
		Limit:                     aws.Int32(1)})
	if err != nil {
		return time.Time{}, fmt.Errorf("next wake: %w", err)
	}
	if len(out.Items) == 0 {
		return time.Time{}, nil
	}
	it := item{m: out.Items[0]}
	at, _, _ := strings.Cut(it.str("wk"), "|")
	if it.err != nil {
		return time.Time{}, fmt.Errorf("next wake: %w", it.err)
	}
	return parseTime(at)
}

func (s *Executions) History(ctx context.Context, name string) ([]ports.ExecutionEvent, error) {
	var out []ports.ExecutionEvent
	p := ddb.NewQueryPaginator(s.client, &ddb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk AND sk > :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(name), ":zero": num(0)}, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", name, err)
		}
		for _, m := range page.Items {
			it := item{m: m}
			ev := ports.ExecutionEvent{Execution: name, Seq: it.num("sk"), Type: it.str("type"), State: it.str("state"), At: it.time("at")}
			if _, ok := m["details"]; ok {
				ev.Details = json.RawMessage(it.str("details"))
			}
			if it.err != nil {
				return nil, fmt.Errorf("history of %s: %w", name, it.err)
			}
			out = append(out, ev)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("history of %s: %w", name, ports.ErrNotFound)
	}
	return out, nil
}
