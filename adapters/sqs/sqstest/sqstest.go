// Package sqstest is a stand-in for Amazon SQS on this machine, for tests:
// there is no SQS emulator here. It speaks SQS's JSON protocol (AWS JSON
// 1.0, X-Amz-Target: AmazonSQS.<action>) for what the store sends,
// SendMessage and SendMessageBatch, and refuses what SQS refuses of them
// (an unknown queue, an empty or too large batch, entry ids that repeat or
// are not SQS's characters, a delay beyond 15 minutes, an unsigned
// request). It keeps the messages with their delays; the other side of
// the queue (Lambda's event source mapping) is the test's: Receive,
// Delete, Release. What it does not do: SQS's at-least-once duplicates,
// its sizes and throughput limits, queue attributes, FIFO queues, IAM.
package sqstest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the stand-in. Each request is recorded with its caller: the
// app id of the SDK's user agent (AWS_SDK_UA_APP_ID), which the
// cloud-shape tests give each function, as each deployed function signs
// with its own role.
type Server struct {
	URL string

	mu       sync.Mutex
	queues   map[string]*queue // by URL
	requests []Request
	fail     func(Entry) *Failure
	seq      int
	sent     chan struct{}
}

type queue struct{ messages []*Message }

// Request is one call of the SQS API.
type Request struct {
	Caller   string // the user agent's app id, "" when none
	Action   string // SendMessage, SendMessageBatch
	QueueURL string
	Entries  []Entry
	// Refused is the error the call was answered ("QueueDoesNotExist",
	// ...), "" when it was served (entries may still have failed: see
	// FailWith).
	Refused string
}

// Entry is one message of a call, as sent.
type Entry struct {
	ID           string // the batch entry's id ("" for SendMessage)
	Body         string
	DelaySeconds int32
}

// Failure is what SQS answers for an entry it did not queue.
type Failure struct {
	Code, Message string
	SenderFault   bool
}

// Message is a message in a queue.
type Message struct {
	ID, Body     string
	SentBy       string // the caller that sent it
	SentAt       time.Time
	Delay        time.Duration
	VisibleAt    time.Time // not handed out before
	ReceiveCount int
}

// New starts a stand-in, stopped when the test ends.
func New(t testing.TB) *Server {
	s := &Server{queues: map[string]*queue{}, sent: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Queue creates a standard queue and returns its URL.
func (s *Server) Queue(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	url := s.URL + "/123456789012/" + name
	if s.queues[url] == nil {
		s.queues[url] = &queue{}
	}
	return url
}

// FailWith makes the server answer each entry of a batch as fail says: a
// nil Failure queues it.
func (s *Server) FailWith(fail func(Entry) *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// Requests are the calls served so far, refused ones included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Ready is signalled (at most one signal waits) whenever messages were
// queued or released.
func (s *Server) Ready() <-chan struct{} { return s.sent }

func (s *Server) signal() {
	select {
	case s.sent <- struct{}{}:
	default:
	}
}

// Receive hands out up to max messages of a queue that are visible now,
// and hides them for visibility, as ReceiveMessage does.
func (s *Server) Receive(url string, max int, visibility time.Duration) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[url]
	if q == nil {
		return nil
	}
	now := time.Now()
	var out []Message
	for _, m := range q.messages {
		if len(out) == max {
			break
		}
		if m.VisibleAt.After(now) {
			continue
		}
		m.ReceiveCount++
		m.VisibleAt = now.Add(visibility)
		out = append(out, *m)
	}
	return out
}

// Delete removes a message from its queue.
func (s *Server) Delete(url, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[url]; q != nil {
		for i, m := range q.messages {
			if m.ID == id {
				q.messages = append(q.messages[:i], q.messages[i+1:]...)
				return
			}
		}
	}
}

// Release makes the held messages of a queue that match visible now (as
// if their delay had passed), and says how many there were.
func (s *Server) Release(url string, match func(Message) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if q := s.queues[url]; q != nil {
		now := time.Now()
		for _, m := range q.messages {
			if m.VisibleAt.After(now) && match(*m) {
				m.VisibleAt = now
				n++
			}
		}
	}
	if n > 0 {
		s.signal()
	}
	return n
}

// Messages are the messages of a queue, held or visible.
func (s *Server) Messages(url string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	if q := s.queues[url]; q != nil {
		for _, m := range q.messages {
			out = append(out, *m)
		}
	}
	return out
}

// NextVisible is when the next held message of a queue becomes visible
// (zero when none is held).
func (s *Server) NextVisible(url string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	if q := s.queues[url]; q != nil {
		for _, m := range q.messages {
			if next.IsZero() || m.VisibleAt.Before(next) {
				next = m.VisibleAt
			}
		}
	}
	return next
}

var (
	appID   = regexp.MustCompile(`(?:^| )app/([^ ]+)`)
	entryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
)

// The most one message may be delayed, in seconds.
const maxDelaySeconds = 900

type sendEntry struct {
	ID           string `json:"Id"`
	MessageBody  *string
	DelaySeconds *int32
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	action, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		answerError(w, http.StatusNotFound, "UnknownOperationException", r.Method+" "+r.URL.Path+" is not SQS's JSON protocol")
		return
	case !ok || (action != "SendMessage" && action != "SendMessageBatch"):
		answerError(w, http.StatusBadRequest, "UnsupportedOperation", "the stand-in serves SendMessage and SendMessageBatch, not "+r.Header.Get("X-Amz-Target"))
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.0":
		answerError(w, http.StatusBadRequest, "InvalidParameterValue", "Content-Type "+r.Header.Get("Content-Type")+", want application/x-amz-json-1.0")
		return
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") || !strings.Contains(r.Header.Get("Authorization"), "/sqs/aws4_request"):
		answerError(w, http.StatusForbidden, "MissingAuthenticationToken", "the request is not signed for sqs (SigV4)")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		answerError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	var in struct {
		QueueURL string `json:"QueueUrl"`
		Entries  []sendEntry
		sendEntry
	}
	if err := json.Unmarshal(body, &in); err != nil {
		answerError(w, http.StatusBadRequest, "InvalidParameterValue", "the body is not JSON: "+err.Error())
		return
	}
	caller := ""
	if m := appID.FindStringSubmatch(r.Header.Get("User-Agent")); m != nil {
		caller = m[1]
	}
	req := Request{Caller: caller, Action: action, QueueURL: in.QueueURL}
	entries := in.Entries
	if action == "SendMessage" {
		entries = []sendEntry{in.sendEntry}
	}
	for _, e := range entries {
		ent := Entry{ID: e.ID}
		if e.MessageBody != nil {
			ent.Body = *e.MessageBody
		}
		if e.DelaySeconds != nil {
			ent.DelaySeconds = *e.DelaySeconds
		}
		req.Entries = append(req.Entries, ent)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	served := &s.requests[len(s.requests)-1]
	fail := func(w http.ResponseWriter, status int, code, msg string) {
		served.Refused = code
		answerError(w, status, code, msg)
	}
	q := s.queues[in.QueueURL]
	if q == nil {
		fail(w, http.StatusBadRequest, "QueueDoesNotExist", "The specified queue does not exist: "+in.QueueURL)
		return
	}
	if action == "SendMessageBatch" {
		seen := map[string]bool{}
		switch {
		case len(entries) == 0:
			fail(w, http.StatusBadRequest, "EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.")
			return
		case len(entries) > 10:
			fail(w, http.StatusBadRequest, "TooManyEntriesInBatchRequest", fmt.Sprintf("Maximum number of entries per request are 10. You have sent %d.", len(entries)))
			return
		}
		for _, e := range entries {
			if !entryID.MatchString(e.ID) {
				fail(w, http.StatusBadRequest, "InvalidBatchEntryId", fmt.Sprintf("A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long: %q", e.ID))
				return
			}
			if seen[e.ID] {
				fail(w, http.StatusBadRequest, "BatchEntryIdsNotDistinct", "Id "+e.ID+" repeated.")
				return
			}
			seen[e.ID] = true
		}
	}
	for _, e := range req.Entries {
		if e.Body == "" {
			fail(w, http.StatusBadRequest, "InvalidParameterValue", "The request must contain the parameter MessageBody.")
			return
		}
		if e.DelaySeconds < 0 || e.DelaySeconds > maxDelaySeconds {
			fail(w, http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Value %d for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.", e.DelaySeconds))
			return
		}
	}
	type success struct {
		ID        string `json:"Id,omitempty"`
		MessageID string `json:"MessageId"`
		MD5       string `json:"MD5OfMessageBody"`
	}
	type failure struct {
		ID          string `json:"Id"`
		Code        string
		Message     string
		SenderFault bool
	}
	var queued []success
	failed := []failure{}
	now := time.Now()
	for _, e := range req.Entries {
		if s.fail != nil {
			if f := s.fail(e); f != nil {
				failed = append(failed, failure{ID: e.ID, Code: f.Code, Message: f.Message, SenderFault: f.SenderFault})
				continue
			}
		}
		s.seq++
		delay := time.Duration(e.DelaySeconds) * time.Second
		m := &Message{ID: fmt.Sprintf("m-%06d", s.seq), Body: e.Body, SentBy: caller, SentAt: now, Delay: delay, VisibleAt: now.Add(delay)}
		q.messages = append(q.messages, m)
		sum := md5.Sum([]byte(e.Body))
		queued = append(queued, success{ID: e.ID, MessageID: m.ID, MD5: hex.EncodeToString(sum[:])})
	}
	if len(queued) > 0 {
		s.signal()
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if action == "SendMessage" {
		if len(failed) > 0 {
			fail(w, http.StatusBadRequest, failed[0].Code, failed[0].Message)
			return
		}
		queued[0].ID = ""
		_ = json.NewEncoder(w).Encode(queued[0])
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"Successful": append([]success{}, queued...), "Failed": failed})
}

// answerError answers an error as SQS's JSON protocol does.
func answerError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
}
