package sandbox

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBlockRenderer_render(t *testing.T) {
	raw := json.RawMessage(`[
	 {"type":"header","text":{"type":"plain_text","text":"Deploy <b>*x*</b>"}},
	 {"type":"section","block_id":"s","text":{"type":"mrkdwn","text":"*bold*"},"fields":[{"type":"mrkdwn","text":"*Env*\nprod"}],
	  "accessory":{"type":"image","image_url":"javascript:alert(1)","alt_text":"x"}},
	 {"type":"context","elements":[{"type":"mrkdwn","text":"_ctx_"},{"type":"image","image_url":"https://i.example/a.png","alt_text":"a"}]},
	 {"type":"divider"},
	 {"type":"image","image_url":"https://i.example/b.png","alt_text":"b","title":{"type":"plain_text","text":"T"}},
	 {"type":"actions","block_id":"a","elements":[
	   {"type":"button","action_id":"go","text":{"type":"plain_text","text":"Go"},"style":"danger","value":"v",
	    "confirm":{"title":{"type":"plain_text","text":"Sure?"},"text":{"type":"plain_text","text":"Really"},"confirm":{"type":"plain_text","text":"Yes"},"deny":{"type":"plain_text","text":"No"}}},
	   {"type":"button","action_id":"view","text":{"type":"plain_text","text":"View"},"url":"https://cla.example/jobs/x"},
	   {"type":"button","action_id":"js","text":{"type":"plain_text","text":"JS"},"url":"javascript:alert(1)"},
	   {"type":"checkboxes","action_id":"c","options":[{"text":{"type":"plain_text","text":"one"},"value":"0"},{"text":{"type":"plain_text","text":"two"},"value":"1"}],
	    "initial_options":[{"text":{"type":"plain_text","text":"two"},"value":"1"}]}]},
	 {"type":"rich_text","elements":[]},
	 {"type":"video"}]`)
	bs := blockRenderer{names: testNames{}}.render(raw, container{Channel: "C1", TS: "1.2"})
	require.Len(t, bs, 8)
	require.Equal(t, "Deploy &lt;b&gt;*x*&lt;/b&gt;", string(bs[0].Text), "plain_text is escaped, not formatted")
	require.Equal(t, "<b>bold</b>", string(bs[1].Text))
	require.Equal(t, "<b>Env</b><br>prod", string(bs[1].Fields[0]))
	require.Empty(t, bs[1].Items[0].Image.URL, "javascript: images are dropped")
	require.Equal(t, "<i>ctx</i>", string(bs[2].Items[0].Text))
	require.Equal(t, "divider", bs[3].Type)
	require.Equal(t, "https://i.example/b.png", bs[4].Image.URL)
	els := bs[5].Items
	require.Equal(t, "button", els[0].Kind)
	require.Equal(t, &confirmView{Title: "Sure?", Text: "Really", Confirm: "Yes", Deny: "No"}, els[0].Confirm)
	require.Equal(t, container{Channel: "C1", TS: "1.2"}, els[0].Container)
	require.Equal(t, "a", els[0].BlockID)
	require.Equal(t, "link", els[1].Kind)
	require.Equal(t, "button", els[2].Kind, "a javascript: link button is a plain button")
	require.Empty(t, els[2].URL)
	require.Equal(t, "checkboxes", els[3].Kind)
	require.False(t, els[3].Options[0].Checked)
	require.True(t, els[3].Options[1].Checked)
	require.Equal(t, "skip", bs[6].Type)
	require.Equal(t, "unknown", bs[7].Type)
	require.Nil(t, blockRenderer{}.render(json.RawMessage(`{bad`), container{}))
}
