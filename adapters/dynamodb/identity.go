package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// identity is the identity table: users, API keys, sessions, failed
// sign-ins, account owners and secrets, one item each.
type identity struct {
	client *ddb.Client
	table  string
}

// Users, APIKeys, Sessions, Throttle and Secrets are the
// identity ports on DynamoDB.
type (
	Users    struct{ identity }
	APIKeys  struct{ identity }
	Sessions struct{ identity }
	Throttle struct{ identity }
	Secrets  struct{ identity }
)

func (s *Store) identity() identity { return identity{client: s.client, table: s.tables.Identity} }

// Users returns the store's users.
func (s *Store) Users() *Users { return &Users{s.identity()} }

// APIKeys returns the store's API keys.
func (s *Store) APIKeys() *APIKeys { return &APIKeys{s.identity()} }

// Sessions returns the store's sessions.
func (s *Store) Sessions() *Sessions { return &Sessions{s.identity()} }

// Throttle returns the store's failed sign-ins.
func (s *Store) Throttle() *Throttle { return &Throttle{s.identity()} }

// Secrets returns the store's secrets.
func (s *Store) Secrets() *Secrets { return &Secrets{s.identity()} }

var (
	_ ports.Users    = (*Users)(nil)
	_ ports.APIKeys  = (*APIKeys)(nil)
	_ ports.Sessions = (*Sessions)(nil)
	_ ports.Throttle = (*Throttle)(nil)
	_ ports.Secrets  = (*Secrets)(nil)
)

func pkey(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk)}
}

// create puts a new item; an existing one is ErrConflict.
func (t identity) create(ctx context.Context, item map[string]types.AttributeValue) error {
	_, err := t.client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(t.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if lostRace(err) {
		return ports.ErrConflict
	}
	return err
}

// get reads an item; a missing one is ErrNotFound.
func (t identity) get(ctx context.Context, pk string) (item, error) {
	m, err := getItem(ctx, t.client, t.table, pk)
	if err != nil {
		return item{}, err
	}
	if m == nil {
		return item{}, ports.ErrNotFound
	}
	return item{m: m}, nil
}

// set updates an existing item; a missing one is ErrNotFound.
func (t identity) set(ctx context.Context, pk, expr string, values map[string]types.AttributeValue) error {
	_, err := t.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(t.table), Key: pkey(pk),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("attribute_exists(pk)"), ExpressionAttributeValues: values})
	if lostRace(err) {
		return ports.ErrNotFound
	}
	return err
}

// scan reads every item whose key starts with prefix (and matches client,
// unless it is "").
func (t identity) scan(ctx context.Context, prefix, client string) ([]item, error) {
	filter := "begins_with(pk, :p)"
	values := map[string]types.AttributeValue{":p": str(prefix)}
	if client != "" {
		filter += " AND #client = :c"
		values[":c"] = str(client)
	}
	in := &ddb.ScanInput{TableName: aws.String(t.table), FilterExpression: aws.String(filter),
		ExpressionAttributeValues: values, ConsistentRead: aws.Bool(true)}
	if client != "" {
		in.ExpressionAttributeNames = map[string]string{"#client": "client"}
	}
	p := ddb.NewScanPaginator(t.client, in)
	var out []item
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.Items {
			out = append(out, item{m: m})
		}
	}
	return out, nil
}

func (it *item) optionalTime(name string) time.Time {
	if _, ok := it.m[name]; !ok {
		return time.Time{}
	}
	return it.time(name)
}

func userFrom(it item) (ports.User, error) {
	u := ports.User{Username: it.str("username"), Client: it.str("client"), Role: it.str("role"), PasswordHash: it.str("digest"), CreatedAt: it.time("at")}
	return u, it.err
}

// Create writes the user and, in the same transaction, an item keyed by
// the lower-cased username: either item existing refuses the user, so no
// two usernames differ only in case, even when created concurrently.
func (s *Users) Create(ctx context.Context, u ports.User) error {
	put := func(item map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	in := &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put(map[string]types.AttributeValue{"pk": str("U#" + u.Username), "username": str(u.Username), "client": str(u.Client),
			"role": str(u.Role), "digest": str(u.PasswordHash), "at": str(formatTime(u.CreatedAt))}),
		put(map[string]types.AttributeValue{"pk": str("N#" + strings.ToLower(u.Username)), "username": str(u.Username)}),
	}}
	for range raceAttempts {
		_, err := s.client.TransactWriteItems(ctx, in)
		switch {
		case err == nil:
			return nil
		case failedCondition(err):
			return fmt.Errorf("create user %s: %w", u.Username, ports.ErrConflict)
		case !lostRace(err):
			return fmt.Errorf("create user %s: %w", u.Username, err)
		}
		// Cancelled by a concurrent transaction on the same items (another
		// case variant being created): try again, and its outcome decides.
	}
	return fmt.Errorf("create user %s: %w", u.Username, ports.ErrConflict)
}

// failedCondition reports whether a transaction was cancelled because one
// of its conditions failed, rather than by a concurrent transaction.
func failedCondition(err error) bool {
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		var failed *types.ConditionalCheckFailedException
		return errors.As(err, &failed)
	}
	for _, r := range cancelled.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

func (s *Users) Get(ctx context.Context, username string) (ports.User, error) {
	it, err := s.get(ctx, "U#"+username)
	if err != nil {
		return ports.User{}, fmt.Errorf("user %s: %w", username, err)
	}
	return userFrom(it)
}

func (s *Users) List(ctx context.Context, client string) ([]ports.User, error) {
	items, err := s.scan(ctx, "U#", client)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]ports.User, 0, len(items))
	for _, it := range items {
		u, err := userFrom(it)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out, nil
}

func (s *Users) SetPassword(ctx context.Context, username, hash string) error {
	if err := s.set(ctx, "U#"+username, "SET digest = :h", map[string]types.AttributeValue{":h": str(hash)}); err != nil {
		return fmt.Errorf("set password of %s: %w", username, err)
	}
	return nil
}

func keyFrom(it item) (ports.APIKey, error) {
	k := ports.APIKey{ID: it.str("id"), Client: it.str("client"), Name: it.str("name"), Scopes: strings.Fields(it.str("scopes")),
		SecretHash: it.str("digest"), CreatedAt: it.time("at"), RevokedAt: it.optionalTime("revokedAt"), LastUsedAt: it.optionalTime("usedAt")}
	return k, it.err
}

func (s *APIKeys) Create(ctx context.Context, k ports.APIKey) error {
	m := map[string]types.AttributeValue{"pk": str("K#" + k.ID), "id": str(k.ID), "client": str(k.Client), "name": str(k.Name),
		"scopes": str(strings.Join(k.Scopes, " ")), "digest": str(k.SecretHash), "at": str(formatTime(k.CreatedAt))}
	if !k.RevokedAt.IsZero() {
		m["revokedAt"] = str(formatTime(k.RevokedAt))
	}
	if !k.LastUsedAt.IsZero() {
		m["usedAt"] = str(formatTime(k.LastUsedAt))
	}
	if err := s.create(ctx, m); err != nil {
		return fmt.Errorf("create api key %s: %w", k.ID, err)
	}
	return nil
}

func (s *APIKeys) Get(ctx context.Context, id string) (ports.APIKey, error) {
	it, err := s.get(ctx, "K#"+id)
	if err != nil {
		return ports.APIKey{}, fmt.Errorf("api key %s: %w", id, err)
	}
	return keyFrom(it)
}

func (s *APIKeys) List(ctx context.Context, client string) ([]ports.APIKey, error) {
	items, err := s.scan(ctx, "K#", client)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	out := make([]ports.APIKey, 0, len(items))
	for _, it := range items {
		k, err := keyFrom(it)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt.After(out[j].CreatedAt) || out[i].CreatedAt.Equal(out[j].CreatedAt) && out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *APIKeys) Revoke(ctx context.Context, id string, at time.Time) error {
	// if_not_exists keeps the first revocation's time.
	if err := s.set(ctx, "K#"+id, "SET revokedAt = if_not_exists(revokedAt, :at)", map[string]types.AttributeValue{":at": str(formatTime(at))}); err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return nil
}

func (s *APIKeys) Used(ctx context.Context, id string, at time.Time) error {
	if err := s.set(ctx, "K#"+id, "SET usedAt = :at", map[string]types.AttributeValue{":at": str(formatTime(at))}); err != nil {
		return fmt.Errorf("use api key %s: %w", id, err)
	}
	return nil
}

func (s *Sessions) Create(ctx context.Context, x ports.Session) error {
	err := s.create(ctx, map[string]types.AttributeValue{"pk": str("S#" + x.ID), "id": str(x.ID), "username": str(x.Username),
		"digest": str(x.RefreshHash), "previous": str(strings.Join(x.PreviousHashes, " ")), "at": str(formatTime(x.CreatedAt)),
		"expiresAt": str(formatTime(x.ExpiresAt)), ttlAttribute: expiry(x.ExpiresAt)})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *Sessions) Get(ctx context.Context, id string) (ports.Session, error) {
	it, err := s.get(ctx, "S#"+id)
	if err != nil {
		return ports.Session{}, fmt.Errorf("session: %w", err)
	}
	x := ports.Session{ID: it.str("id"), Username: it.str("username"), RefreshHash: it.str("digest"), CreatedAt: it.time("at"),
		ExpiresAt: it.time("expiresAt"), RevokedAt: it.optionalTime("revokedAt")}
	// Sessions stored before previous hashes were kept have none.
	if p, ok := it.m["previous"].(*types.AttributeValueMemberS); ok && p.Value != "" {
		x.PreviousHashes = strings.Fields(p.Value)
	}
	return x, it.err
}

func (s *Sessions) Rotate(ctx context.Context, next ports.Session, oldHash string) error {
	_, err := s.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(s.table), Key: pkey("S#" + next.ID),
		// The table forgets a session once it has expired.
		UpdateExpression:         aws.String("SET digest = :new, previous = :prev, expiresAt = :exp, #ttl = :ttl"),
		ConditionExpression:      aws.String("digest = :old AND attribute_not_exists(revokedAt)"),
		ExpressionAttributeNames: map[string]string{"#ttl": ttlAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":new": str(next.RefreshHash), ":old": str(oldHash),
			":prev": str(strings.Join(next.PreviousHashes, " ")), ":exp": str(formatTime(next.ExpiresAt)), ":ttl": expiry(next.ExpiresAt)}})
	if lostRace(err) {
		return fmt.Errorf("rotate session: %w", ports.ErrConflict)
	}
	return err
}

func (s *Sessions) Revoke(ctx context.Context, id string, at time.Time) error {
	if err := s.set(ctx, "S#"+id, "SET revokedAt = if_not_exists(revokedAt, :at)", map[string]types.AttributeValue{":at": str(formatTime(at))}); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// expiry is a "ttl" attribute (ttlAttribute): the epoch second after which
// an item is of no use, for the table's time to live to delete it.
func expiry(t time.Time) types.AttributeValue { return num(t.Unix() + 1) }

// attempts reads a key's attempts (id -> time) and the item's write
// counter (0 when there is no item).
func (s *Throttle) attempts(ctx context.Context, key string) (map[string]string, int64, error) {
	it, err := s.get(ctx, "F#"+key)
	if errors.Is(err, ports.ErrNotFound) {
		return map[string]string{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	out := map[string]string{}
	if m, ok := it.m["a"].(*types.AttributeValueMemberM); ok {
		for id, v := range m.Value {
			if at, ok := v.(*types.AttributeValueMemberS); ok {
				out[id] = at.Value
			}
		}
	}
	return out, it.num("w"), it.err
}

// Take reads each key's item, and rewrites them all in one transaction,
// each on condition that its write counter has not moved: a concurrent
// attempt makes the transaction fail and this one reads again.
func (s *Throttle) Take(ctx context.Context, id string, keys []ports.ThrottleKey, at, since time.Time) error {
	from, now := formatTime(since), formatTime(at)
	for range raceAttempts {
		writes := make([]types.TransactWriteItem, 0, len(keys))
		for _, k := range keys {
			attempts, w, err := s.attempts(ctx, k.Key)
			if err != nil {
				return fmt.Errorf("take a sign-in slot: %w", err)
			}
			kept := map[string]types.AttributeValue{}
			var times []string
			for aid, t := range attempts {
				if t >= from {
					kept[aid] = str(t)
					times = append(times, t)
				}
			}
			if len(times) >= k.Limit {
				return fullError(k.Key, times)
			}
			kept[id] = str(now)
			put := &types.Put{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{"pk": str("F#" + k.Key),
				"a": &types.AttributeValueMemberM{Value: kept}, "w": num(w + 1), "ttl": expiry(at.Add(at.Sub(since)))}}
			if w == 0 {
				put.ConditionExpression = aws.String("attribute_not_exists(pk)")
			} else {
				put.ConditionExpression = aws.String("w = :w")
				put.ExpressionAttributeValues = map[string]types.AttributeValue{":w": num(w)}
			}
			writes = append(writes, types.TransactWriteItem{Put: put})
		}
		_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
		if err == nil {
			return nil
		}
		if !lostRace(err) {
			return fmt.Errorf("take a sign-in slot: %w", err)
		}
	}
	return fmt.Errorf("take a sign-in slot: %w", ports.ErrConflict)
}

func fullError(key string, times []string) error {
	sort.Strings(times)
	e := &ports.ThrottleFullError{Key: key}
	for _, t := range times {
		at, err := parseTime(t)
		if err != nil {
			return fmt.Errorf("take a sign-in slot: %w", err)
		}
		e.Attempts = append(e.Attempts, at)
	}
	return e
}

// Release removes the attempt from each key's item and moves its write
// counter, so that a Take that read the item before writes again.
func (s *Throttle) Release(ctx context.Context, id string, keys []string) error {
	for _, key := range keys {
		_, err := s.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(s.table), Key: pkey("F#" + key),
			UpdateExpression:          aws.String("REMOVE a.#id SET w = w + :one"),
			ConditionExpression:       aws.String("attribute_exists(a.#id)"),
			ExpressionAttributeNames:  map[string]string{"#id": id},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}})
		if err != nil && !lostRace(err) { // a failed condition: not there, nothing to release
			return fmt.Errorf("release a sign-in slot: %w", err)
		}
	}
	return nil
}

func (s *Throttle) Clear(ctx context.Context, key string) error {
	if _, err := s.client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String(s.table), Key: pkey("F#" + key)}); err != nil {
		return fmt.Errorf("clear sign-in attempts: %w", err)
	}
	return nil
}

func knownKey(username, address string) string { return "M#" + username + "#" + address }

// Remember moves the address's end forward, never back. The table's time
// to live forgets addresses that are no longer known.
func (s *Throttle) Remember(ctx context.Context, username, address string, at, until time.Time) error {
	_, err := s.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(s.table), Key: pkey(knownKey(username, address)),
		UpdateExpression:          aws.String("SET knownUntil = :u, #ttl = :ttl"),
		ConditionExpression:       aws.String("attribute_not_exists(knownUntil) OR knownUntil < :u"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":u": str(formatTime(until)), ":ttl": expiry(until)}})
	if err != nil && !lostRace(err) { // a failed condition: known for longer already
		return fmt.Errorf("remember the address of %s: %w", username, err)
	}
	return nil
}

func (s *Throttle) Known(ctx context.Context, username, address string, at time.Time) (bool, error) {
	it, err := s.get(ctx, knownKey(username, address))
	if errors.Is(err, ports.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("known address of %s: %w", username, err)
	}
	until := it.str("knownUntil")
	if it.err != nil {
		return false, fmt.Errorf("known address of %s: %w", username, it.err)
	}
	return until > formatTime(at), nil
}

func (s *Secrets) Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error) {
	read := func() ([]byte, error) {
		it, err := s.get(ctx, "X#"+name)
		if err != nil {
			return nil, err
		}
		v, ok := it.m["value"].(*types.AttributeValueMemberB)
		if !ok {
			return nil, fmt.Errorf("secret %s is not binary", name)
		}
		return v.Value, nil
	}
	v, err := read()
	if !errors.Is(err, ports.ErrNotFound) {
		return v, err
	}
	fresh, err := create()
	if err != nil {
		return nil, fmt.Errorf("make secret %s: %w", name, err)
	}
	err = s.create(ctx, map[string]types.AttributeValue{"pk": str("X#" + name), "value": &types.AttributeValueMemberB{Value: fresh}})
	if err != nil && !errors.Is(err, ports.ErrConflict) {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return read() // ours, or the one a concurrent first call stored
}
