package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/sagatasks"
)

// The catalog of functions (what the stack deploys and grants) and the
// roles this bootstrap plays are the same list; the catalog's saga tasks
// are the purchase and return sagas', and its tables are the store's.
func TestRolesAreTheCatalog(t *testing.T) {
	var names, tasks []string
	kinds := dynamodb.TablesNamed("").All()
	for _, f := range lambda.Functions() {
		names = append(names, f.Name)
		if f.Task != "" {
			tasks = append(tasks, f.Task)
			if f.Name != strings.TrimSuffix(f.Task, "FunctionArn") {
				t.Errorf("%s fills %s: a task function is named as its state", f.Name, f.Task)
			}
		}
		for kind := range f.Tables {
			if !slices.Contains(kinds, kind) {
				t.Errorf("%s: %q is no table of the store (%v)", f.Name, kind, kinds)
			}
		}
		for _, kind := range f.Streams {
			if !slices.Contains(kinds, kind) {
				t.Errorf("%s consumes the stream of %q, no table of the store", f.Name, kind)
			}
		}
		if f.Timeout <= 0 {
			t.Errorf("%s has no timeout", f.Name)
		}
		for _, kind := range append(slices.Clone(f.SendsTo), f.Queue) {
			if kind != "" && kind != lambda.WebhookQueue {
				t.Errorf("%s names the queue %q: the store's only queue is %q", f.Name, kind, lambda.WebhookQueue)
			}
		}
		if f.Queue != "" && (f.Task != "" || len(f.Streams) > 0 || f.Every > 0) {
			t.Errorf("%s is invoked by its queue and by something else", f.Name)
		}
	}
	slices.Sort(names)
	if got := roleNames(); !slices.Equal(got, names) {
		t.Errorf("the bootstrap's roles %v, the catalog's functions %v", got, names)
	}
	var steps []string
	for resource := range sagatasks.Steps {
		steps = append(steps, resource)
	}
	for resource := range sagatasks.ReturnSteps {
		if _, dup := sagatasks.Steps[resource]; dup {
			t.Errorf("%s is a task of both sagas: its function would run one saga's step for the other's", resource)
		}
		steps = append(steps, resource)
	}
	slices.Sort(steps)
	slices.Sort(tasks)
	if !slices.Equal(steps, tasks) {
		t.Errorf("the saga's tasks %v, the catalog's %v", steps, tasks)
	}
}
