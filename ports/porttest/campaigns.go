package porttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// NewCampaigns returns an empty campaign store for one test.
type NewCampaigns func(t *testing.T) ports.Campaigns

func campaignRec(client, name string, version int64) ports.CampaignRecord {
	return ports.CampaignRecord{Client: client, Name: name, Version: version,
		Definition: json.RawMessage(fmt.Sprintf(`{"campaign_name":%q,"v":%d}`, name, version)),
		UpdatedAt:  t0.Add(time.Duration(version) * time.Minute), UpdatedBy: "marketer"}
}

func save(t *testing.T, c ports.Campaigns, rec ports.CampaignRecord) {
	t.Helper()
	if err := c.Save(context.Background(), rec); err != nil {
		t.Fatalf("save %s v%d: %v", rec.Name, rec.Version, err)
	}
}

// TestCampaigns is the contract of ports.Campaigns.
func TestCampaigns(t *testing.T, newCampaigns NewCampaigns) {
	ctx := context.Background()

	t.Run("versions, current and history", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		if _, err := c.Get(ctx, "UnicornStore", "1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Get of a new name: err = %v, want ErrNotFound", err)
		}
		if _, err := c.History(ctx, "UnicornStore", "1"); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("History of a new name: err = %v, want ErrNotFound", err)
		}
		v1, v2 := campaignRec("UnicornStore", "1", 1), campaignRec("UnicornStore", "1", 2)
		save(t, c, v1)
		save(t, c, v2)
		got, err := c.Get(ctx, "UnicornStore", "1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v2, got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
		hist, err := c.History(ctx, "UnicornStore", "1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]ports.CampaignRecord{v1, v2}, hist); diff != "" {
			t.Errorf("History (-want +got):\n%s", diff)
		}
	})

	t.Run("a version out of turn conflicts and writes nothing", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		for _, v := range []int64{0, 2} {
			if err := c.Save(ctx, campaignRec("UnicornStore", "1", v)); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("save v%d of a new name: err = %v, want ErrConflict", v, err)
			}
		}
		save(t, c, campaignRec("UnicornStore", "1", 1))
		for _, v := range []int64{1, 3} {
			if err := c.Save(ctx, campaignRec("UnicornStore", "1", v)); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("save v%d after v1: err = %v, want ErrConflict", v, err)
			}
		}
		if hist, _ := c.History(ctx, "UnicornStore", "1"); len(hist) != 1 {
			t.Errorf("history has %d versions, want 1", len(hist))
		}
	})

	t.Run("only one of 20 concurrent editors wins", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		save(t, c, campaignRec("UnicornStore", "1", 1))
		wins := winners(t, func(i int) error {
			rec := campaignRec("UnicornStore", "1", 2)
			rec.UpdatedBy = fmt.Sprint("editor-", i)
			return c.Save(ctx, rec)
		})
		if wins != 1 {
			t.Errorf("%d editors won, want 1", wins)
		}
	})

	t.Run("list by client skips deleted campaigns", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		save(t, c, campaignRec("UnicornStore", "b", 1))
		save(t, c, campaignRec("UnicornStore", "a", 1))
		save(t, c, campaignRec("UnicornStore", "gone", 1))
		gone := campaignRec("UnicornStore", "gone", 2)
		gone.Deleted = true
		save(t, c, gone)
		save(t, c, campaignRec("OtherShop", "a", 1))
		list, err := c.List(ctx, "UnicornStore")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]ports.CampaignRecord{campaignRec("UnicornStore", "a", 1), campaignRec("UnicornStore", "b", 1)}, list); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
		all, err := c.List(ctx, "")
		if err != nil || len(all) != 3 {
			t.Errorf("List of every client = %d campaigns, %v; want 3", len(all), err)
		}
		// A deleted name is still known, and can be used again.
		if got, err := c.Get(ctx, "UnicornStore", "gone"); err != nil || !got.Deleted || got.Version != 2 {
			t.Errorf("Get deleted = %+v, %v", got, err)
		}
		save(t, c, campaignRec("UnicornStore", "gone", 3))
		if list, _ := c.List(ctx, "UnicornStore"); len(list) != 3 {
			t.Errorf("re-created campaign missing from List: %d", len(list))
		}
	})

	t.Run("a grant raises the total once per key, on condition", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		budget := func(key string) ports.BudgetRecord {
			t.Helper()
			b, err := c.Budget(ctx, "UnicornStore", "1", key)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		if b := budget("order:1"); b != (ports.BudgetRecord{}) {
			t.Errorf("budget of a new campaign = %+v", b)
		}
		if err := c.Grant(ctx, "UnicornStore", "1", "order:1", 0, 60); err != nil {
			t.Fatal(err)
		}
		if b := budget("order:1"); b != (ports.BudgetRecord{Awarded: 60, Granted: 60, HasGrant: true}) {
			t.Errorf("after order:1 = %+v", b)
		}
		if b := budget("order:2"); b != (ports.BudgetRecord{Awarded: 60}) {
			t.Errorf("order:2 before its grant = %+v", b)
		}
		for _, bad := range []struct {
			key             string
			awarded, points int64
		}{
			{"order:1", 60, 5}, // the key has a grant
			{"order:2", 0, 5},  // the total moved since it was read
			{"order:2", 59, 5},
		} {
			if err := c.Grant(ctx, "UnicornStore", "1", bad.key, bad.awarded, bad.points); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("Grant(%s, from %d) = %v, want ErrConflict", bad.key, bad.awarded, err)
			}
		}
		if b := budget("order:2"); b != (ports.BudgetRecord{Awarded: 60}) {
			t.Errorf("a refused grant wrote something: %+v", b)
		}
		// A grant of nothing is recorded too: a repeat of its award finds it.
		if err := c.Grant(ctx, "UnicornStore", "1", "order:2", 60, 0); err != nil {
			t.Fatal(err)
		}
		if b := budget("order:2"); b != (ports.BudgetRecord{Awarded: 60, Granted: 0, HasGrant: true}) {
			t.Errorf("after a grant of 0 = %+v", b)
		}
		if awarded, err := c.Awarded(ctx, "UnicornStore", "1"); err != nil || awarded != 60 {
			t.Errorf("Awarded = %d, %v; want 60", awarded, err)
		}
		if awarded, err := c.Awarded(ctx, "UnicornStore", "never"); err != nil || awarded != 0 {
			t.Errorf("Awarded of an unknown campaign = %d, %v", awarded, err)
		}
	})

	t.Run("only one of 20 grants decided on the same total wins", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		wins := winners(t, func(i int) error { return c.Grant(ctx, "UnicornStore", "1", fmt.Sprint("order:", i), 0, 7) })
		if awarded, _ := c.Awarded(ctx, "UnicornStore", "1"); wins != 1 || awarded != 7 {
			t.Errorf("%d grants won, awarded %d; want 1 and 7", wins, awarded)
		}
	})

	t.Run("concurrent awards never exceed the budget", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		// Each award reads, decides as a budget of 100 would, and writes on
		// condition, again when it lost a race: as the domain does.
		award := func(key string, want int64) (int64, error) {
			for {
				b, err := c.Budget(ctx, "UnicornStore", "1", key)
				if err != nil || b.HasGrant {
					return b.Granted, err
				}
				granted := max(0, min(want, 100-b.Awarded))
				switch err := c.Grant(ctx, "UnicornStore", "1", key, b.Awarded, granted); {
				case err == nil:
					return granted, nil
				case !errors.Is(err, ports.ErrConflict):
					return 0, err
				}
			}
		}
		var granted atomic.Int64
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				got, err := award(fmt.Sprint("order:", i), 7)
				if err != nil {
					t.Error(err)
				}
				granted.Add(got)
			})
		}
		wg.Wait()
		awarded, _ := c.Awarded(ctx, "UnicornStore", "1")
		if granted.Load() != 100 || awarded != 100 {
			t.Errorf("granted %d, awarded %d; want 100 and 100", granted.Load(), awarded)
		}
	})

	t.Run("a client's settings are versioned, each by name", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		if _, err := c.Setting(ctx, "UnicornStore", ports.SettingCeiling); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("Ceiling of a client without one: err = %v, want ErrNotFound", err)
		}
		rec := func(v int64, def string) ports.SettingRecord {
			return ports.SettingRecord{Client: "UnicornStore", Name: ports.SettingCeiling, Version: v, Definition: json.RawMessage(def),
				UpdatedAt: t0.Add(time.Duration(v) * time.Minute), UpdatedBy: "boss"}
		}
		for _, v := range []int64{0, 2} {
			if err := c.SaveSetting(ctx, rec(v, `{"v":1}`)); !errors.Is(err, ports.ErrConflict) {
				t.Errorf("save v%d first: err = %v, want ErrConflict", v, err)
			}
		}
		for v := int64(1); v <= 2; v++ {
			if err := c.SaveSetting(ctx, rec(v, fmt.Sprintf(`{"v":%d}`, v))); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.SaveSetting(ctx, rec(2, `{"v":9}`)); !errors.Is(err, ports.ErrConflict) {
			t.Errorf("save v2 again: err = %v, want ErrConflict", err)
		}
		got, err := c.Setting(ctx, "UnicornStore", ports.SettingCeiling)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rec(2, `{"v":2}`), got); diff != "" {
			t.Errorf("Ceiling (-want +got):\n%s", diff)
		}
		if _, err := c.Setting(ctx, "OtherShop", ports.SettingCeiling); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("another client's ceiling: err = %v, want ErrNotFound", err)
		}
		// Another setting of the client is apart, with versions of its own.
		if _, err := c.Setting(ctx, "UnicornStore", ports.SettingTiers); !errors.Is(err, ports.ErrNotFound) {
			t.Errorf("tiers of a client with a ceiling only: err = %v, want ErrNotFound", err)
		}
		tiers := ports.SettingRecord{Client: "UnicornStore", Name: ports.SettingTiers, Version: 1, Definition: json.RawMessage(`{"t":1}`),
			UpdatedAt: t0, UpdatedBy: "boss"}
		if err := c.SaveSetting(ctx, tiers); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Setting(ctx, "UnicornStore", ports.SettingTiers); err != nil || cmp.Diff(tiers, got) != "" {
			t.Errorf("tiers = %+v, %v", got, err)
		}
		if got, err := c.Setting(ctx, "UnicornStore", ports.SettingCeiling); err != nil || got.Version != 2 {
			t.Errorf("the ceiling after the tiers were saved = %+v, %v", got, err)
		}
		// A setting is not a campaign.
		if list, err := c.List(ctx, "UnicornStore"); err != nil || len(list) != 0 {
			t.Errorf("List = %v, %v", list, err)
		}
		if all, err := c.List(ctx, ""); err != nil || len(all) != 0 {
			t.Errorf("List of every client = %v, %v", all, err)
		}
	})

	t.Run("only one of 20 concurrent ceiling writers wins", func(t *testing.T) {
		t.Parallel()
		c := newCampaigns(t)
		wins := winners(t, func(i int) error {
			return c.SaveSetting(ctx, ports.SettingRecord{Client: "UnicornStore", Name: ports.SettingCeiling, Version: 1, Definition: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
				UpdatedAt: t0, UpdatedBy: "boss"})
		})
		if wins != 1 {
			t.Errorf("%d writers won, want 1", wins)
		}
	})
}
