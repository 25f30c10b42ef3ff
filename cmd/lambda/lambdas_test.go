package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/unicornstore/unicorn/internal/childproc"
)

// functions runs Lambda functions the way the Lambda service would, on
// this machine: each function is the real bootstrap under the AWS Lambda
// Runtime Interface Emulator, a few instances of it so that concurrent
// invocations run at once (the emulator takes one at a time), behind a
// router that answers the Lambda Invoke API by function name, as the
// Step Functions runtime and the tests call it.
type functions struct {
	url   string
	pools map[string]chan string // function name -> free instances' base URLs
	procs []*instance
	srv   *http.Server
	// invoked counts invocations per function (the tests check that the
	// state machine called what it should).
	mu      sync.Mutex
	invoked map[string]int
	log     *log.Logger // every call, into router.log
}

// function is one Lambda function: its name, environment and instances.
type function struct {
	name      string
	env       []string
	instances int
}

// freePorts finds n distinct free ports, holding each until all are found.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// instance is one emulator running a function's bootstrap.
type instance struct {
	addr string // where it takes invocations
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended
}

// startInstance starts an emulator on two free ports and waits until it
// takes invocations. Each needs two ports: where it takes invocations, and
// its Runtime API, which the bootstrap polls (9001 by default: every
// instance needs its own). The two are held together while they are
// found, so they differ (a port just let go can be handed out again), and
// each instance is started once the one before holds its own. A port can
// still be taken by another process before the emulator binds it (the
// emulator then exits): it is started again on other ports.
func startInstance(rie, bootstrap string, env []string, logf *os.File) (*instance, error) {
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
			"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", ports[1]), bootstrap)
		// A function that hangs is stopped by the emulator after its
		// timeout, as Lambda does, and its instance serves again.
		cmd.Env = append(append(os.Environ(), "AWS_LAMBDA_FUNCTION_TIMEOUT=120"), env...)
		cmd.Stdout, cmd.Stderr = logf, logf
		childproc.DieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		in := &instance{addr: addr, cmd: cmd, done: make(chan struct{})}
		go func() {
			_ = cmd.Wait()
			close(in.done)
		}()
		// The emulator binds the invocation address last, after the
		// Runtime API: once it answers there, both are its own.
		err = listening(addr, in.done)
		if err == nil {
			return in, nil
		}
		_ = cmd.Process.Kill()
		<-in.done
		if attempt == 5 {
			return nil, err
		}
		fmt.Fprintf(logf, "--- attempt %d: %v; again on other ports\n", attempt, err)
	}
}

// listening waits until something accepts connections at addr, or the
// process whose end closes done has ended.
func listening(addr string, done <-chan struct{}) error {
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			return fmt.Errorf("the emulator ended before it took invocations at %s", addr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the emulator did not take invocations at %s within two minutes", addr)
		}
	}
}

// startFunctions starts every function's instances and the router.
func startFunctions(ln net.Listener, rie, bootstrap, logDir string, fns []function) (*functions, error) {
	f := &functions{pools: map[string]chan string{}, invoked: map[string]int{}}
	if logf, err := os.Create(filepath.Join(logDir, "router.log")); err == nil {
		f.log = log.New(logf, "", log.Lmicroseconds)
	}
	for _, fn := range fns {
		pool := make(chan string, fn.instances)
		for i := range fn.instances {
			logf, err := os.Create(filepath.Join(logDir, fmt.Sprintf("%s-%d.log", fn.name, i)))
			if err != nil {
				return f, err
			}
			in, err := startInstance(rie, bootstrap, fn.env, logf)
			if err != nil {
				return f, fmt.Errorf("start the emulator for %s: %w", fn.name, err)
			}
			f.procs = append(f.procs, in)
			pool <- "http://" + in.addr
		}
		f.pools[fn.name] = pool
	}
	f.url = "http://" + ln.Addr().String()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.route), ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *functions) stop() {
	if f.srv != nil {
		f.srv.Close()
	}
	for _, p := range f.procs {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// route answers POST /2015-03-31/functions/{name}/invocations on a free
// instance of the function. Like the Lambda service, and unlike the
// emulator, it marks a function's error with X-Amz-Function-Error, which
// is how the SDKs (and so the Step Functions runtime) tell an error from
// a result.
func (f *functions) route(w http.ResponseWriter, r *http.Request) {
	if f.log != nil {
		f.log.Printf("%s %s", r.Method, r.URL.Path)
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(rest, "/invocations")
	if !ok || !ok2 || r.Method != http.MethodPost {
		http.Error(w, `{"message":"not an Invoke call"}`, http.StatusNotFound)
		return
	}
	// The state machine names functions by ARN, made from the
	// definition's placeholders (${ReserveStockFunctionArn} → a function
	// named ReserveStockFunctionArn): the function is ReserveStock.
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = strings.TrimSuffix(name[i+len(":function:"):], "FunctionArn")
	}
	pool, ok := f.pools[name]
	if !ok {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		http.Error(w, `{"Type":"User","message":"Function not found: `+name+`"}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.invoked[name]++
	f.mu.Unlock()
	var base string
	select {
	case base = <-pool:
	case <-r.Context().Done():
		return
	}
	// The instance goes back to the pool only once it has answered, even
	// if the caller gave up: the emulator takes one invocation at a time,
	// and a second one sent while it is busy crashes it.
	out, err := invokeInstance(context.WithoutCancel(r.Context()), base, body)
	pool <- base
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		http.Error(w, fmt.Sprintf(`{"message":%q}`, err.Error()), http.StatusInternalServerError)
		return
	}
	var fnErr struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(out, &fnErr) == nil && fnErr.ErrorType != "" {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func invokeInstance(ctx context.Context, base string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/2015-03-31/functions/function/invocations", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// invoke calls a function through the router, as a test: out is its
// result, fnErr its error type when it failed.
func (f *functions) invoke(ctx context.Context, name string, payload any) (out []byte, fnErr string, err error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/2015-03-31/functions/"+name+"/invocations", bytes.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	out, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return out, "", fmt.Errorf("invoke %s: %s: %s", name, resp.Status, out)
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		var e struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(out, &e)
		return out, e.ErrorType, nil
	}
	return out, "", nil
}
