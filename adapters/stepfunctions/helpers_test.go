package stepfunctions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/unicornstore/unicorn/adapters/stepfunctions"
	"github.com/unicornstore/unicorn/orchestration/conformance"
	"github.com/unicornstore/unicorn/ports"
)

// memSteps is an in-memory step store: a test double of ports.SagaSteps
// (its contract is checked in TestMemSteps).
type memSteps struct {
	mu   sync.Mutex
	runs map[string][]ports.SagaStep
}

func newMemSteps() *memSteps { return &memSteps{runs: map[string][]ports.SagaStep{}} }

func (m *memSteps) Record(_ context.Context, saga string, step ports.SagaStep) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs[saga] = append(m.runs[saga], step)
	return nil
}

func (m *memSteps) Steps(_ context.Context, saga string) ([]ports.SagaStep, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	steps, ok := m.runs[saga]
	if !ok {
		return nil, fmt.Errorf("saga %s: %w", saga, ports.ErrNotFound)
	}
	return append([]ports.SagaStep(nil), steps...), nil
}

// The state machine the tests run: a Choice, a Fail outside any task, a
// Pass, and Lambda tasks whose OutOfStock error a Catch routes to a
// compensation. Its tasks are fakeLambda's functions.
const definition = `{
  "Comment": "The Step Functions adapter's test machine.",
  "StartAt": "Route",
  "States": {
    "Route": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.mode", "StringEquals": "refuse", "Next": "Refuse"}],
      "Default": "Prepare"
    },
    "Refuse": {"Type": "Fail", "Error": "Refused", "Cause": "the input asked for it"},
    "Prepare": {"Type": "Pass", "Result": "prepared", "ResultPath": "$.prepared", "Next": "Reserve"},
    "Reserve": {
      "Type": "Task",
      "Resource": "${ReserveFunction}",
      "TimeoutSeconds": 900,
      "ResultPath": "$.reserved",
      "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "Release"}],
      "Next": "Complete"
    },
    "Complete": {"Type": "Task", "Resource": "${CompleteFunction}", "ResultPath": "$.completed", "End": true},
    "Release": {"Type": "Task", "Resource": "${ReleaseFunction}", "Next": "Failed"},
    "Failed": {"Type": "Fail", "Error": "OutOfStock", "Cause": "the stock was released"}
  }
}`

const machineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:adapter-test"

// taskInput is what fakeLambda's functions read of their input.
type taskInput struct {
	Saga  string `json:"saga"`
	Mode  string `json:"mode"` // "", "out_of_stock", "hold", "refuse"
	Error *struct {
		Error string `json:"Error"`
	} `json:"error"`
}

// fakeLambda answers the Lambda Invoke API for the test machine's
// functions as the saga's tasks would: each records its steps in the step
// store, and the last task of a path adds the end marker (step "Saga").
// Reserve fails with OutOfStock (a Lambda function error) for mode
// out_of_stock, and waits for release(saga) for mode hold.
type fakeLambda struct {
	steps *memSteps
	mu    sync.Mutex
	calls map[string]int           // "function saga" -> invocations
	holds map[string]chan struct{} // saga -> closed when released
}

func newFakeLambda(t *testing.T, steps *memSteps) (*fakeLambda, *httptest.Server) {
	f := &fakeLambda{steps: steps, calls: map[string]int{}, holds: map[string]chan struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", f.invoke)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

// hold makes saga's Reserve wait until release(saga).
func (f *fakeLambda) hold(saga string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds[saga] = make(chan struct{})
}

func (f *fakeLambda) release(saga string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch, ok := f.holds[saga]; ok {
		close(ch)
		delete(f.holds, saga)
	}
}

func (f *fakeLambda) callCount(function, saga string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[function+" "+saga]
}

func (f *fakeLambda) invoke(w http.ResponseWriter, r *http.Request) {
	// FunctionName is the ARN the server substituted for ${Name}.
	name := r.PathValue("name")
	if _, fn, ok := strings.Cut(name, ":function:"); ok {
		name = fn
	}
	var in taskInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls[name+" "+in.Saga]++
	hold := f.holds[in.Saga]
	f.mu.Unlock()

	ctx := r.Context()
	record := func(steps ...ports.SagaStep) {
		for _, st := range steps {
			st.At = time.Now()
			// As the real tasks do: under the execution's name (the
			// definition passes $$.Execution.Name).
			if err := f.steps.Record(ctx, stepfunctions.ExecutionName(in.Saga), st); err != nil {
				panic(err) // the in-memory store does not fail
			}
		}
	}
	switch name {
	case "ReserveFunction":
		record(ports.SagaStep{Step: "Reserve", Status: "started"})
		if in.Mode == "hold" && hold != nil {
			select {
			case <-hold:
			case <-ctx.Done():
				return
			}
		}
		if in.Mode == "out_of_stock" {
			record(ports.SagaStep{Step: "Reserve", Status: "failed", Error: "OutOfStock"})
			// What the Lambda service answers for a function's error.
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			writeJSON(w, map[string]string{"errorType": "OutOfStock", "errorMessage": "no unicorns left"})
			return
		}
		record(ports.SagaStep{Step: "Reserve", Status: "succeeded"})
		writeJSON(w, map[string]int{"units": 1})
	case "CompleteFunction":
		record(ports.SagaStep{Step: "Complete", Status: "succeeded"}, ports.SagaStep{Step: "Saga", Status: "succeeded"})
		writeJSON(w, map[string]bool{"completed": true})
	case "ReleaseFunction":
		// The error the Catch put in the input, to show it matched.
		caught := ""
		if in.Error != nil {
			caught = in.Error.Error
		}
		record(ports.SagaStep{Step: "Release", Status: "succeeded", Error: caught}, ports.SagaStep{Step: "Saga", Status: "failed"})
		writeJSON(w, map[string]bool{"released": true})
	default:
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		writeJSON(w, map[string]string{"message": "Function not found: " + name})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// harness is the Step Functions server running the test machine against
// fakeLambda, and the adapter over it.
type harness struct {
	client *sfn.Client
	steps  *memSteps
	lambda *fakeLambda
	sagas  *stepfunctions.Sagas
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	steps := newMemSteps()
	lambda, lambdaSrv := newFakeLambda(t, steps)
	// Release every held task before the fake Lambda closes (cleanups
	// run last first), so that no handler is left waiting.
	t.Cleanup(func() {
		lambda.mu.Lock()
		defer lambda.mu.Unlock()
		for saga, ch := range lambda.holds {
			close(ch)
			delete(lambda.holds, saga)
		}
	})
	def := filepath.Join(t.TempDir(), "machine.asl.json")
	if err := os.WriteFile(def, []byte(definition), 0o600); err != nil {
		t.Fatal(err)
	}
	endpoint := conformance.StartStepFunctions(t, []string{"AWS_ENDPOINT_URL_LAMBDA=" + lambdaSrv.URL},
		conformance.Machine{ARN: machineARN, Definition: def})
	client := sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	sagas, err := stepfunctions.New(client, machineARN, steps)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{client: client, steps: steps, lambda: lambda, sagas: sagas}
}

// generous bounds every wait for the server: the machine is a busy 2-core
// box, and a test never depends on its speed.
const generous = 2 * time.Minute

func executionARN(saga string) string {
	return strings.Replace(machineARN, ":stateMachine:", ":execution:", 1) + ":" + stepfunctions.ExecutionName(saga)
}

// describe returns the execution of a saga as Step Functions reports it.
func (h *harness) describe(t *testing.T, saga string) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := h.client.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN(saga))})
	if err != nil {
		t.Fatalf("describe %s: %v", saga, err)
	}
	return out
}

// closed polls Step Functions until the saga's execution has closed, and
// returns it.
func (h *harness) closed(t *testing.T, saga string) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(generous)
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		out := h.describe(t, saga)
		if out.Status != types.ExecutionStatusRunning {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution of %s still running after %v", saga, generous)
		}
		time.Sleep(delay)
	}
}

// recorded polls the step store until the saga has a step matching want.
func (h *harness) recorded(t *testing.T, saga string, want ports.SagaStep) {
	t.Helper()
	deadline := time.Now().Add(generous)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		steps, _ := h.steps.Steps(context.Background(), stepfunctions.ExecutionName(saga))
		for _, st := range steps {
			if st.Step == want.Step && st.Status == want.Status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("saga %s: no step %s %s after %v (steps: %v)", saga, want.Step, want.Status, generous, steps)
		}
		time.Sleep(delay)
	}
}

// wait runs Wait with a generous deadline and expects the run to end.
func (h *harness) wait(t *testing.T, saga string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	ended, err := h.sagas.Wait(ctx, saga)
	if err != nil || !ended {
		t.Fatalf("Wait(%s) = %v, %v; want ended", saga, ended, err)
	}
}

func input(t *testing.T, saga, mode string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]string{"saga": saga, "mode": mode})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
