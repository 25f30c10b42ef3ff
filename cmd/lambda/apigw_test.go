package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

var (
	fixtureOnce sync.Once
	fixture     []byte
	fixtureErr  error
)

// apiEvent is an API Gateway HTTP API request (payload 2.0), made from
// aws-lambda-go's own fixture of a request through a JWT authorizer, with
// the method, path, headers and body of this call.
func apiEvent(t *testing.T, method, path, token, body string, headers ...string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	fixtureOnce.Do(func() {
		var dir []byte
		if dir, fixtureErr = exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output(); fixtureErr != nil {
			return
		}
		fixture, fixtureErr = os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "events", "testdata", "apigw-v2-request-jwt-authorizer.json"))
	})
	if fixtureErr != nil {
		t.Fatalf("aws-lambda-go's API Gateway fixture: %v", fixtureErr)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(fixture, &ev); err != nil {
		t.Fatal(err)
	}
	p, query, _ := strings.Cut(path, "?")
	ev.RouteKey = "$default"
	ev.RawPath, ev.RawQueryString, ev.QueryStringParameters = p, query, nil
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, p
	ev.Headers = map[string]string{"content-type": "application/json"}
	if token != "" {
		ev.Headers["authorization"] = "Bearer " + token
	}
	for i := 0; i+1 < len(headers); i += 2 {
		ev.Headers[strings.ToLower(headers[i])] = headers[i+1]
	}
	ev.Cookies = nil
	ev.Body, ev.IsBase64Encoded = body, false
	return ev
}
