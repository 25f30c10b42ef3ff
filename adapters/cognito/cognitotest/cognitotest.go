// Package cognitotest runs cognito-local, an emulator of the Cognito user
// pools API (make cognito-local installs it here), for tests: a user pool
// shaped as the CDK stack makes it (the role groups, custom:client), and
// people in it.
//
// Without the emulator or Node.js a test is skipped with the reason,
// unless UNICORN_REQUIRE_COGNITO is set (make test sets it): then it
// fails, so CI can never pass by skipping.
package cognitotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/unicornstore/unicorn/adapters/cognito"
	"github.com/unicornstore/unicorn/internal/childproc"
	"github.com/unicornstore/unicorn/ports"
)

// Start runs an emulator for tb and returns a client of it.
func Start(tb testing.TB) *cip.Client {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(here), "node_modules", "cognito-local", "lib", "bin", "start.js")
	_, err := os.Stat(bin)
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		if os.Getenv("UNICORN_REQUIRE_COGNITO") != "" {
			tb.Fatalf("cognito-local is required (make cognito-local): %v", err)
		}
		tb.Skipf("cognito-local is missing (make cognito-local): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("node", bin)
	// It keeps its pools and its configuration in .cognito/ under its
	// working directory; its pools take usernames (it defaults to emails,
	// as a pool without usernames does).
	cmd.Dir = tb.TempDir()
	if err := os.MkdirAll(filepath.Join(cmd.Dir, ".cognito"), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cmd.Dir, ".cognito", "config.json"), []byte(`{"UserPoolDefaults": {"UsernameAttributes": []}}`), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	logs, err := os.Create(filepath.Join(cmd.Dir, "cognito-local.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	childproc.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start cognito-local: %v", err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logs.Close()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logs.Name())
			tb.Fatalf("cognito-local did not listen on %s within a minute: %v\n%s", addr, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cip.NewFromConfig(aws.Config{Region: "local", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *cip.Options) { o.BaseEndpoint = aws.String("http://" + addr) })
}

// NewPool makes a user pool as the stack does: the client attribute and a
// group per role. It returns the pool's id.
func NewPool(tb testing.TB, c *cip.Client) string {
	tb.Helper()
	ctx := context.Background()
	out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("unicorn"),
		// People sign in with a username or their email, as the stack's.
		UsernameAttributes: []types.UsernameAttributeType{}, AliasAttributes: []types.AliasAttributeType{types.AliasAttributeTypeEmail},
		Schema: []types.SchemaAttributeType{{Name: aws.String("client"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true)}}})
	if err != nil {
		tb.Fatal(err)
	}
	pool := out.UserPool.Id
	for _, role := range ports.Roles {
		if _, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: pool, GroupName: aws.String(role)}); err != nil {
			tb.Fatal(err)
		}
	}
	return *pool
}

// AddPerson creates a user in the pool as an admin does (README, "Deploy
// to AWS"), in the groups, working for client unless it is "".
func AddPerson(tb testing.TB, c *cip.Client, pool, username, client string, groups ...string) {
	tb.Helper()
	ctx := context.Background()
	in := &cip.AdminCreateUserInput{UserPoolId: &pool, Username: &username, MessageAction: types.MessageActionTypeSuppress,
		TemporaryPassword: aws.String("Temporary-pass1!")}
	if client != "" {
		in.UserAttributes = []types.AttributeType{{Name: aws.String(cognito.ClientAttribute), Value: &client}}
	}
	if _, err := c.AdminCreateUser(ctx, in); err != nil {
		tb.Fatal(fmt.Errorf("create %s: %w", username, err))
	}
	for _, g := range groups {
		if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: &pool, Username: &username, GroupName: aws.String(g)}); err != nil {
			tb.Fatal(errors.Join(fmt.Errorf("add %s to %s", username, g), err))
		}
	}
}
