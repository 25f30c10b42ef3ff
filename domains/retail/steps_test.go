package retail

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

func TestCampaignPoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, award string
		want        []ports.CampaignPoints
		wantErr     bool
	}{
		{"no award", ``, nil, false},
		{"no lines", `[]`, nil, false},
		{"one line", `[{"campaign_name":"1","campaign_version":3,"rule_index":0,"inputs":{"$.amount":1700},"formula":"$.amount/10","raw":"170","points":170}]`,
			[]ports.CampaignPoints{{Campaign: "1", Points: 170}}, false},
		{"summed per campaign, first seen first", `[{"campaign_name":"b","points":5},{"campaign_name":"a","points":7},{"campaign_name":"b","points":10},` +
			`{"campaign_name":"a","points":0,"note":"capped by the campaign's remaining budget"}]`,
			[]ports.CampaignPoints{{Campaign: "b", Points: 15}, {Campaign: "a", Points: 7}}, false},
		{"a campaign that gave nothing", `[{"campaign_name":"dry","points":0,"note":"no points: the formula is negative for this purchase"}]`,
			[]ports.CampaignPoints{{Campaign: "dry", Points: 0}}, false},
		{"not a breakdown", `{"total":5}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := campaignPoints(json.RawMessage(tt.award))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
