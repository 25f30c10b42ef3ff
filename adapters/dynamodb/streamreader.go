package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamARN returns the ARN of a table's change stream.
func (s *Store) StreamARN(ctx context.Context, table string) (string, error) {
	out, err := s.client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("stream of %s: %w", table, err)
	}
	if out.Table == nil || out.Table.LatestStreamArn == nil {
		return "", fmt.Errorf("table %s has no stream", table)
	}
	return *out.Table.LatestStreamArn, nil
}

// StreamStart is where a StreamReader starts in shards it has no position
// in, among the shards the stream has when it starts.
type StreamStart int

const (
	// FromTrimHorizon reads everything the stream still holds (24 hours).
	FromTrimHorizon StreamStart = iota
	// FromLatest reads only what is written after the reader started.
	FromLatest
)

// StreamReaderConfig tunes a StreamReader; the zero value is usable.
type StreamReaderConfig struct {
	// Batch is the most records handed to one call (GetRecords allows
	// 1000). 0 means 100.
	Batch int
	// Start is where to start in shards without a position.
	Start StreamStart
	// Positions resume a reader: per shard id, the sequence number of the
	// last record handled (Positions of an earlier reader).
	Positions map[string]string
	// MaxIdleWait is the longest pause when no shard has new records: the
	// pause starts at 20 ms and doubles up to it. 0 means 1 s.
	MaxIdleWait time.Duration
	// Log receives failures that the reader retries (a failed batch, an
	// API error). Optional.
	Log *slog.Logger
}

// StreamReader follows one table's change stream, as the Lambda event
// source mapping does: every shard, a parent before its children (a
// child's records are later changes of the same items), handing records in
// order to a callback, at most Batch at a time. A batch whose callback
// fails is handed again, unchanged, until it succeeds: delivery is at
// least once, and the callback must be idempotent. Its position (the last
// record handled per shard) is kept in memory only.
type StreamReader struct {
	client *dynamodbstreams.Client
	arn    string
	cfg    StreamReaderConfig

	mu        sync.Mutex
	positions map[string]string // shard id -> last sequence number handled
}

// NewStreamReader returns a reader of the stream arn.
func NewStreamReader(client *dynamodbstreams.Client, arn string, cfg StreamReaderConfig) *StreamReader {
	if cfg.Batch <= 0 || cfg.Batch > 1000 {
		cfg.Batch = 100
	}
	if cfg.MaxIdleWait <= 0 {
		cfg.MaxIdleWait = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &StreamReader{client: client, arn: arn, cfg: cfg, positions: maps.Clone(cfg.Positions)}
}

// Positions returns, per shard id, the sequence number of the last record
// handled: give it to a new reader to resume where this one stopped.
func (r *StreamReader) Positions() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.positions)
}

func (r *StreamReader) setPosition(shard, seq string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.positions == nil {
		r.positions = map[string]string{}
	}
	r.positions[shard] = seq
}

func (r *StreamReader) position(shard string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seq, ok := r.positions[shard]
	return seq, ok
}

// shard is what the reader knows of one shard.
type shard struct {
	id, parent string
	iterator   *string // nil: to be asked for
	done       bool    // closed and read to its end
	initial    bool    // existed when the reader started
}

// Run reads the stream until ctx is done, then returns nil. handle
// receives each batch of records; an error makes Run hand it the same
// batch again after a pause (from 20 ms, doubling up to 5 s). Run
// returns an error only when the stream cannot be read at all (it does
// not exist).
func (r *StreamReader) Run(ctx context.Context, handle func(context.Context, []streamtypes.Record) error) error {
	shards := map[string]*shard{}
	var order []string // shard ids in the order described: parents first
	first := true
	idle := time.Duration(0)
	var described time.Time
	for ctx.Err() == nil {
		// Look for new shards at the start, when a shard ended, and every
		// few seconds (a shard closes after about four hours and a child
		// opens).
		if first || time.Since(described) > 5*time.Second || anyDone(shards, order) {
			found, err := r.describe(ctx)
			if err != nil {
				var missing *streamtypes.ResourceNotFoundException
				if errors.As(err, &missing) {
					return fmt.Errorf("read stream %s: %w", r.arn, err)
				}
				r.cfg.Log.Warn("describe stream", "stream", r.arn, "err", err)
				if waitIdle(ctx, &idle, r.cfg.MaxIdleWait) != nil {
					return nil
				}
				continue
			}
			described = time.Now()
			var kept []string
			for _, s := range found {
				if old, ok := shards[s.id]; ok {
					if !old.done {
						kept = append(kept, s.id)
					}
					continue
				}
				s.initial = first
				shards[s.id] = s
				kept = append(kept, s.id)
			}
			// Shards read to their end are forgotten once DescribeStream
			// no longer lists them; until then they gate their children.
			order = kept
			first = false
		}
		got := 0
		for _, id := range order {
			s := shards[id]
			if s.done || !parentDone(shards, s) {
				continue
			}
			n, err := r.readShard(ctx, s, handle)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				r.cfg.Log.Warn("read stream shard", "stream", r.arn, "shard", s.id, "err", err)
			}
			got += n
		}
		if got > 0 {
			idle = 0
			continue
		}
		if waitIdle(ctx, &idle, r.cfg.MaxIdleWait) != nil {
			return nil
		}
	}
	return nil
}

func anyDone(shards map[string]*shard, order []string) bool {
	for _, id := range order {
		if shards[id].done {
			return true
		}
	}
	return false
}

// parentDone reports whether s may be read: its parent was read to its
// end, or is gone from the stream (trimmed, or read before).
func parentDone(shards map[string]*shard, s *shard) bool {
	p, ok := shards[s.parent]
	return s.parent == "" || !ok || p.done
}

// waitIdle pauses, longer each time nothing was read in a row.
func waitIdle(ctx context.Context, idle *time.Duration, most time.Duration) error {
	*idle = min(max(*idle*2, 20*time.Millisecond), most)
	return sleep(ctx, *idle)
}

// describe lists the stream's shards, every page.
func (r *StreamReader) describe(ctx context.Context) ([]*shard, error) {
	var out []*shard
	var start *string
	for {
		page, err := r.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.arn), ExclusiveStartShardId: start})
		if err != nil {
			return nil, err
		}
		if page.StreamDescription == nil {
			return out, nil
		}
		for _, s := range page.StreamDescription.Shards {
			out = append(out, &shard{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		start = page.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

// iterator asks for an iterator where the shard's reading stands: after
// its position, or at the reader's start.
func (r *StreamReader) iterator(ctx context.Context, s *shard) error {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(r.arn), ShardId: aws.String(s.id), ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
	if seq, ok := r.position(s.id); ok {
		in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
	} else if s.initial && r.cfg.Start == FromLatest {
		// Shards opened after the start are read whole: their records
		// are all after it.
		in.ShardIteratorType = streamtypes.ShardIteratorTypeLatest
	}
	out, err := r.client.GetShardIterator(ctx, in)
	if err != nil {
		return err
	}
	s.iterator = out.ShardIterator
	if s.iterator == nil {
		s.done = true
	}
	return nil
}

// readShard reads one batch of s and hands it over until handled. It
// returns how many records it handed.
func (r *StreamReader) readShard(ctx context.Context, s *shard, handle func(context.Context, []streamtypes.Record) error) (int, error) {
	if s.iterator == nil {
		if err := r.iterator(ctx, s); err != nil {
			var trimmed *streamtypes.TrimmedDataAccessException
			if errors.As(err, &trimmed) {
				// The position is older than the stream holds: what was
				// there is lost to this reader; go on from the oldest.
				r.mu.Lock()
				delete(r.positions, s.id)
				r.mu.Unlock()
			}
			return 0, err
		}
		if s.done {
			return 0, nil
		}
	}
	out, err := r.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(int32(r.cfg.Batch))})
	if err != nil {
		var expired *streamtypes.ExpiredIteratorException
		var trimmed *streamtypes.TrimmedDataAccessException
		if errors.As(err, &expired) || errors.As(err, &trimmed) {
			s.iterator = nil // ask again from the position
		}
		return 0, err
	}
	if len(out.Records) > 0 {
		wait := 20 * time.Millisecond
		for {
			err := handle(ctx, out.Records)
			if err == nil {
				break
			}
			r.cfg.Log.Warn("stream batch failed, handing it again", "stream", r.arn, "shard", s.id, "records", len(out.Records), "err", err)
			if err := sleep(ctx, wait); err != nil {
				return 0, err
			}
			wait = min(wait*2, 5*time.Second)
		}
		last := out.Records[len(out.Records)-1]
		if last.Dynamodb != nil && last.Dynamodb.SequenceNumber != nil {
			r.setPosition(s.id, *last.Dynamodb.SequenceNumber)
		}
	}
	s.iterator = out.NextShardIterator
	if s.iterator == nil {
		s.done = true // closed, and read to its end
	}
	return len(out.Records), nil
}
