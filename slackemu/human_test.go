package slackemu

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestEmulator_Post(t *testing.T) {
	emu := NewTest(t, fastConfig())
	alice, bob, general := workspace(t, emu)
	ops := emu.AddUserGroup(UserGroup{Handle: "ops"})

	cases := []struct{ typed, want string }{
		{"hi @bob & <you>", "hi <@" + bob.ID + "> &amp; &lt;you&gt;"},
		{"see #general.", "see <#" + general.ID + "|general>."},
		{"@ops @here #missing", "<!subteam^" + ops.ID + "> <!here> #missing"},
		{"kept <@" + alice.ID + ">", "kept <@" + alice.ID + ">"},
		{"mail@bob stays", "mail@bob stays"},
	}
	for _, tc := range cases {
		t.Run(tc.typed, func(t *testing.T) {
			ts, err := emu.PostMessage(alice.ID, general.ID, tc.typed)
			require.NoError(t, err)
			m, ok := emu.Message(general.ID, ts)
			require.True(t, ok)
			require.Equal(t, tc.want, m.Text)
		})
	}
	t.Run("not a member", func(t *testing.T) {
		other := emu.AddChannel(Channel{Name: "other", Members: []string{bob.ID}})
		_, err := emu.PostMessage(alice.ID, other.ID, "hi")
		require.ErrorIs(t, err, ErrNotMember)
	})
	t.Run("no such user or channel", func(t *testing.T) {
		_, err := emu.PostMessage("U404", general.ID, "hi")
		require.Error(t, err)
		_, err = emu.PostMessage(alice.ID, "C404", "hi")
		require.Error(t, err)
	})
}

func TestEmulator_HumanEvents(t *testing.T) {
	emu := NewTest(t, fastConfig())
	alice, bob, general := workspace(t, emu)
	root, err := emu.PostMessage(alice.ID, general.ID, "root")
	require.NoError(t, err)
	reply, err := emu.PostReply(bob.ID, general.ID, root, "reply")
	require.NoError(t, err)
	require.NoError(t, emu.EditMessage(general.ID, reply, "edited"))
	f, fts, err := emu.ShareFile(alice.ID, general.ID, File{Name: "disk.png", Size: 42}, "proof")
	require.NoError(t, err)
	require.NoError(t, emu.DeleteMessage(general.ID, root))

	evs := eventsOf(t, emu)
	require.Len(t, evs, 5)
	require.Equal(t, root, evs[1]["thread_ts"])
	require.Equal(t, alice.ID, evs[1]["parent_user_id"])

	changed := evs[2]
	require.Equal(t, "message_changed", changed["subtype"])
	require.Equal(t, "edited", changed["message"].(map[string]any)["text"])
	require.Equal(t, "reply", changed["previous_message"].(map[string]any)["text"])
	require.Equal(t, reply, changed["message"].(map[string]any)["ts"])

	share := evs[3]
	require.Equal(t, "file_share", share["subtype"])
	require.Equal(t, fts, share["ts"])
	require.Equal(t, f.ID, share["files"].([]any)[0].(map[string]any)["id"])
	require.Equal(t, "image/png", f.Mimetype)

	deleted := evs[4]
	require.Equal(t, "message_deleted", deleted["subtype"])
	require.Equal(t, root, deleted["deleted_ts"])

	api := client(emu)
	info, _, _, err := api.GetFileInfo(f.ID, 0, 0)
	require.NoError(t, err)
	require.Equal(t, "disk.png", info.Name)
	_, _, _, err = api.GetFileInfo("F404", 0, 0)
	require.EqualError(t, err, "file_not_found")

	t.Run("bad edits", func(t *testing.T) {
		require.Error(t, emu.EditMessage(general.ID, root, "gone"))
		require.Error(t, emu.EditMessage(general.ID, "1.000001", "x"))
	})
}

func TestEmulator_Conversations(t *testing.T) {
	emu := NewTest(t, fastConfig())
	alice, bob, general := workspace(t, emu)
	api := client(emu)

	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "job-qa-1"})
	require.NoError(t, err)
	require.True(t, ch.IsMember)
	_, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "job-qa-1"})
	require.EqualError(t, err, "name_taken")
	_, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "Bad Name"})
	require.EqualError(t, err, "invalid_name_specials")

	_, err = api.InviteUsersToConversation(ch.ID, alice.ID)
	require.NoError(t, err)
	_, err = api.InviteUsersToConversation(ch.ID, alice.ID)
	require.EqualError(t, err, "already_in_channel")
	_, err = api.InviteUsersToConversation(ch.ID, "U404")
	require.EqualError(t, err, "user_not_found")

	public := emu.AddChannel(Channel{Name: "public", Members: []string{bob.ID}})
	_, err = api.InviteUsersToConversation(public.ID, alice.ID)
	require.EqualError(t, err, "not_in_channel")
	_, _, _, err = api.JoinConversation(public.ID)
	require.NoError(t, err)
	joined, _ := emu.Channel(public.ID)
	require.Contains(t, joined.Members, emu.BotUserID())
	require.Equal(t, "channel_join", emu.Messages(public.ID)[0].Subtype)

	info, err := api.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: ch.ID})
	require.NoError(t, err)
	require.Equal(t, "job-qa-1", info.Name)

	list, cursor, err := api.GetConversations(&slack.GetConversationsParameters{Limit: 2})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NotEmpty(t, cursor)
	rest, cursor, err := api.GetConversations(&slack.GetConversationsParameters{Limit: 2, Cursor: cursor})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.Empty(t, cursor)

	root, err := emu.PostMessage(alice.ID, general.ID, "root")
	require.NoError(t, err)
	_, err = emu.PostReply(bob.ID, general.ID, root, "r1")
	require.NoError(t, err)
	_, err = emu.PostMessage(bob.ID, general.ID, "later")
	require.NoError(t, err)
	hist, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general.ID})
	require.NoError(t, err)
	require.Len(t, hist.Messages, 2, "replies stay out of history")
	require.Equal(t, "later", hist.Messages[0].Text)
	require.Equal(t, 1, hist.Messages[1].ReplyCount)
	msgs, _, _, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general.ID, Timestamp: root})
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	_, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: emu.AddChannel(Channel{Name: "x", Members: []string{bob.ID}}).ID})
	require.EqualError(t, err, "not_in_channel")
}

func TestEmulator_Users(t *testing.T) {
	emu := NewTest(t, fastConfig())
	alice, bob, _ := workspace(t, emu)
	api := client(emu)
	u, err := api.GetUserInfo(alice.ID)
	require.NoError(t, err)
	require.Equal(t, "alice@example.com", u.Profile.Email)
	_, err = api.GetUserInfo("U404")
	require.EqualError(t, err, "user_not_found")
	byMail, err := api.GetUserByEmail("BOB@example.com")
	require.NoError(t, err)
	require.Equal(t, bob.ID, byMail.ID)
	_, err = api.GetUserByEmail("nobody@example.com")
	require.EqualError(t, err, "users_not_found")

	groups, err := api.GetUserGroups(slack.GetUserGroupsOptionIncludeUsers(true))
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.Equal(t, "ops", groups[0].Handle)
	require.Equal(t, []string{alice.ID}, groups[0].Users)
	members, err := api.GetUserGroupMembers(groups[0].ID)
	require.NoError(t, err)
	require.Equal(t, []string{alice.ID}, members)
	_, err = api.GetUserGroupMembers("S404")
	require.EqualError(t, err, "no_such_subteam")
}
