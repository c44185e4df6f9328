package blocks_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cla-ops/cla/internal/bot/blocks"
	"github.com/cla-ops/cla/jobs"
	"github.com/stretchr/testify/require"
)

// The Slack message and evidence modal of ctrlplane's manual-action RFC,
// pasted as the RFC writes them. Only ids are replaced: <job-id>, the
// channel, and the View button, which links to cla's job page (the RFC's
// "View in Ctrlplane" / your-ctrlplane-instance link).
const rfcMessage = `{
  "channel": "C04XXXXXX",
  "blocks": [
    {
      "type": "header",
      "text": {
        "type": "plain_text",
        "text": "🔧 Manual Action Required"
      }
    },
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "*Swap failed disk*\n\nReplace the failed disk in us-east-1-node-7 (rack 7, slot 3). After replacement, verify the disk is online with ` + "`lsblk`" + ` and confirm the RAID array is rebuilding."
      }
    },
    {
      "type": "section",
      "fields": [
        {
          "type": "mrkdwn",
          "text": "*Deployment:*\ninfra-rollout"
        },
        {
          "type": "mrkdwn",
          "text": "*Environment:*\nproduction"
        },
        {
          "type": "mrkdwn",
          "text": "*Resource:*\nus-east-1-node-7"
        },
        {
          "type": "mrkdwn",
          "text": "*Version:*\nv1.4.2"
        }
      ]
    },
    {
      "type": "actions",
      "elements": [
        {
          "type": "button",
          "text": {
            "type": "plain_text",
            "text": "✅ Mark as Completed"
          },
          "style": "primary",
          "action_id": "manual_action_complete",
          "value": "<job-id>"
        },
        {
          "type": "button",
          "text": {
            "type": "plain_text",
            "text": "❌ Report Failure"
          },
          "style": "danger",
          "action_id": "manual_action_fail",
          "value": "<job-id>"
        },
        {
          "type": "button",
          "text": {
            "type": "plain_text",
            "text": "View in Ctrlplane"
          },
          "url": "https://your-ctrlplane-instance.com/workspaces/.../jobs/<job-id>"
        }
      ]
    }
  ]
}`

const rfcModal = `{
  "type": "modal",
  "title": {
    "type": "plain_text",
    "text": "Complete Manual Action"
  },
  "submit": {
    "type": "plain_text",
    "text": "Complete"
  },
  "blocks": [
    {
      "type": "section",
      "text": {
        "type": "mrkdwn",
        "text": "*Swap failed disk*\nReplace the failed disk in us-east-1-node-7..."
      }
    },
    {
      "type": "input",
      "block_id": "evidence_message",
      "label": {
        "type": "plain_text",
        "text": "What was done?"
      },
      "element": {
        "type": "plain_text_input",
        "action_id": "evidence_message_input",
        "multiline": true,
        "placeholder": {
          "type": "plain_text",
          "text": "Describe the action taken..."
        }
      }
    },
    {
      "type": "input",
      "block_id": "evidence_url",
      "optional": true,
      "label": {
        "type": "plain_text",
        "text": "Evidence URL"
      },
      "element": {
        "type": "url_text_input",
        "action_id": "evidence_url_input",
        "placeholder": {
          "type": "plain_text",
          "text": "https://..."
        }
      }
    }
  ],
  "private_metadata": "{\"job_id\": \"<job-id>\"}"
}`

// rfcJob is the RFC's example: the disk swap of us-east-1-node-7 in the
// infra-rollout deployment.
func rfcJob(ctx map[string]any) (*jobs.Job, *jobs.Gate) {
	g := &jobs.Gate{ID: "g1", GateConfig: jobs.GateConfig{Type: "manual-action", Kind: jobs.KindAction, Name: "Swap failed disk",
		Description: "Replace the failed disk in us-east-1-node-7 (rack 7, slot 3). After replacement, verify the disk is online with `lsblk` and confirm the RAID array is rebuilding.",
		Assignees:   []string{"ops-team"}, RequireEvidence: true},
		State: jobs.GateOpen, OpenedAt: opened, Approvals: []jobs.Vote{}}
	j := &jobs.Job{ID: "disk-1", Name: "Swap failed disk", Status: jobs.StatusActionRequired, Context: ctx, Gates: []*jobs.Gate{g}}
	return j, g
}

var rfcContext = map[string]any{
	"deployment":  map[string]any{"name": "Infrastructure Rollout", "slug": "infra-rollout"},
	"environment": map[string]any{"name": "production"},
	"resource":    map[string]any{"name": "us-east-1-node-7", "metadata": map[string]any{"rack": "7", "slot": "3"}},
	"release":     map[string]any{"version": map[string]any{"tag": "v1.4.2"}},
}

// ids puts the example's ids into the RFC's text.
func ids(text string) string {
	return strings.NewReplacer("<job-id>", "disk-1", "View in Ctrlplane", "View",
		"https://your-ctrlplane-instance.com/workspaces/.../jobs/", "https://cla.example/jobs/").Replace(text)
}

func TestMessage_RFCManualAction(t *testing.T) {
	j, g := rfcJob(rfcContext)
	got := blocks.Message(blocks.GateView{Job: j, Gate: g, Now: opened, PublicURL: "https://cla.example"})
	var want struct {
		Blocks []any `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal([]byte(ids(rfcMessage)), &want))
	requireBlocksInOrder(t, want.Blocks, roundTrip(t, got).([]any))
}

func TestEvidenceModal_RFC(t *testing.T) {
	j, g := rfcJob(rfcContext)
	got := roundTrip(t, blocks.EvidenceModal(j, g)).(map[string]any)
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(ids(rfcModal)), &want))

	// The RFC quotes the task cut short ("..."); cla quotes it whole.
	task := want["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)
	prefix := strings.TrimSuffix(task["text"].(string), "...")
	require.True(t, strings.HasPrefix(got["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string), prefix))
	task["text"] = got["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"]

	var meta, wantMeta map[string]string
	require.NoError(t, json.Unmarshal([]byte(got["private_metadata"].(string)), &meta))
	require.NoError(t, json.Unmarshal([]byte(want["private_metadata"].(string)), &wantMeta))
	require.Equal(t, wantMeta["job_id"], meta["job_id"])
	require.Equal(t, "g1", meta["gate_id"], "the gate id travels too")
	jobID, gateID, ok := blocks.ParseMetadata(got["private_metadata"].(string))
	require.True(t, ok)
	require.Equal(t, [2]string{"disk-1", "g1"}, [2]string{jobID, gateID})
	delete(want, "private_metadata")
	wantBlocks := want["blocks"].([]any)
	delete(want, "blocks")
	requireSubset(t, want, got, "modal")
	requireBlocksInOrder(t, wantBlocks, got["blocks"].([]any))
}

// The RFC's fallbacks: Deployment is deployment.slug, else its name;
// Version is release.version.tag, else a string release.version, else
// version.tag.
func TestMessage_RFCFields(t *testing.T) {
	for _, tc := range []struct {
		ctx  map[string]any
		want []string
	}{
		{rfcContext, []string{"*Deployment:*\ninfra-rollout", "*Environment:*\nproduction", "*Resource:*\nus-east-1-node-7", "*Version:*\nv1.4.2"}},
		{map[string]any{"deployment": map[string]any{"name": "api"}, "release": map[string]any{"version": "v2"}}, []string{"*Deployment:*\napi", "*Version:*\nv2"}},
		{map[string]any{"version": map[string]any{"tag": "v3"}, "resource": map[string]any{"name": "<b>&"}}, []string{"*Resource:*\n&lt;b&gt;&amp;", "*Version:*\nv3"}},
		{map[string]any{"release": map[string]any{"version": map[string]any{"id": "x"}}}, nil},
	} {
		j, g := rfcJob(tc.ctx)
		raw, err := json.Marshal(blocks.Message(blocks.GateView{Job: j, Gate: g, Now: opened, PublicURL: "https://cla.example"}))
		require.NoError(t, err)
		var bs []map[string]any
		require.NoError(t, json.Unmarshal(raw, &bs))
		var got []string
		for _, b := range bs {
			for _, f := range asSlice(b["fields"]) {
				got = append(got, f.(map[string]any)["text"].(string))
			}
		}
		require.Equal(t, tc.want, got, "%v", tc.ctx)
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// requireBlocksInOrder checks that every block the RFC shows is among
// ours, in the same order, with every field the RFC gives (cla adds block
// ids and blocks of its own in between).
func requireBlocksInOrder(t *testing.T, want, got []any) {
	t.Helper()
	i := 0
	for n, w := range want {
		for i < len(got) && subset(w, got[i]) != nil {
			i++
		}
		require.Less(t, i, len(got), "the RFC's block %d is missing or out of order: %s", n, mustJSON(w))
		i++
	}
}

func requireSubset(t *testing.T, want, got any, what string) {
	t.Helper()
	require.NoError(t, subset(want, got), what)
}

// subset reports how want is not contained in got: maps key by key,
// arrays element by element (same length), scalars equal.
func subset(want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object, got %v", got)
		}
		for k, v := range w {
			if err := subset(v, g[k]); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("want %d elements, got %v", len(w), got)
		}
		for i := range w {
			if err := subset(w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	default:
		if want != got {
			return fmt.Errorf("want %v, got %v", want, got)
		}
	}
	return nil
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
