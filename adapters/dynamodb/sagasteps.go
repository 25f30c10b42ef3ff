package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// SagaSteps keeps the steps of saga runs on DynamoDB (ports.SagaSteps):
// one item per run in the retail table, pk "H#<run>", whose list of steps
// grows by an update that appends in place, so concurrent records are all
// kept without a read. A run has a few dozen steps at most, far from the
// item size limit.
type SagaSteps struct {
	client *ddb.Client
	table  string
}

// SagaSteps returns the store's saga steps.
func (s *Store) SagaSteps() *SagaSteps { return &SagaSteps{client: s.client, table: s.tables.Retail} }

var _ ports.SagaSteps = (*SagaSteps)(nil)

func (s *SagaSteps) Record(ctx context.Context, saga string, step ports.SagaStep) error {
	m := map[string]types.AttributeValue{"step": str(step.Step), "status": str(step.Status), "at": str(formatTime(step.At))}
	if step.Error != "" {
		m["error"] = str(step.Error)
	}
	if step.Cause != "" {
		m["cause"] = str(step.Cause)
	}
	_, err := s.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(s.table), Key: map[string]types.AttributeValue{"pk": str("H#" + saga)},
		UpdateExpression: aws.String("SET steps = list_append(if_not_exists(steps, :none), :step)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":none": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			":step": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: m}}}}})
	if err != nil {
		return fmt.Errorf("record step %s of %s: %w", step.Step, saga, err)
	}
	return nil
}

func (s *SagaSteps) Steps(ctx context.Context, saga string) ([]ports.SagaStep, error) {
	m, err := getItem(ctx, s.client, s.table, "H#"+saga)
	if err != nil {
		return nil, fmt.Errorf("steps of %s: %w", saga, err)
	}
	list, _ := m["steps"].(*types.AttributeValueMemberL)
	if m == nil || list == nil || len(list.Value) == 0 {
		return nil, fmt.Errorf("steps of %s: %w", saga, ports.ErrNotFound)
	}
	out := make([]ports.SagaStep, 0, len(list.Value))
	for _, v := range list.Value {
		sm, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("steps of %s: a step is not a map", saga)
		}
		it := item{m: sm.Value}
		st := ports.SagaStep{Step: it.str("step"), Status: it.str("status"), At: it.time("at"), Error: it.optionalStr("error"), Cause: it.optionalStr("cause")}
		if it.err != nil {
			return nil, fmt.Errorf("steps of %s: %w", saga, it.err)
		}
		out = append(out, st)
	}
	return out, nil
}

// optionalStr reads a string attribute that may be absent ("").
func (it *item) optionalStr(name string) string {
	if _, ok := it.m[name]; !ok {
		return ""
	}
	return it.str(name)
}
