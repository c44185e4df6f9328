package notify

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBudgets_WithDefaults(t *testing.T) {
	require.Equal(t, defaultBudgets, Budgets{}.WithDefaults())
	b := Budgets{Webhook: Budget{Total: 1}, Email: Budget{PerTarget: 9}}.WithDefaults()
	require.Equal(t, Budget{Total: 1, PerTarget: 1}, b.Webhook, "per target never above the type's total")
	require.Equal(t, Budget{Total: 4, PerTarget: 4}, b.Email)
	require.Equal(t, 30, defaultBudgets.total())
}

func TestBudgetKeys(t *testing.T) {
	cases := []struct{ lane, typ, target string }{
		{"webhook\x00https://user:pw@Hooks.Example.com:8443/a?x=1", "webhook", "webhook\x00hooks.example.com"},
		{"webhook\x00https://hooks.example.com/b", "webhook", "webhook\x00hooks.example.com"},
		{"webhook\x00not a url", "webhook", "webhook\x00not a url"},
		{"email\x00ops@example.com", "email", "email\x00smtp"},
		{"email\x00bob@example.org", "email", "email\x00smtp"},
		{"slack\x00C0123", "slack", "slack\x00C0123"},
		{"slack\x00job:qa-1", "slack", "slack\x00job:qa-1"},
	}
	for _, tc := range cases {
		typ, target := budgetKeys(tc.lane)
		require.Equal(t, tc.typ, typ, tc.lane)
		require.Equal(t, tc.target, target, tc.lane)
	}
}

// TestSlots walks the budgets: per target, per type, in all, and that a
// freed slot is taken again.
func TestSlots(t *testing.T) {
	s := newSlots(Budgets{Webhook: Budget{Total: 3, PerTarget: 2}, Email: Budget{Total: 1}, Slack: Budget{Total: 1}, Other: Budget{Total: 1}})
	hook := func(host, path string) string { return "webhook\x00https://" + host + "/" + path }
	require.True(t, s.take(hook("a", "1")))
	require.False(t, s.take(hook("a", "1")), "a lane runs once")
	require.True(t, s.take(hook("a", "2")))
	require.False(t, s.take(hook("a", "3")), "host a is at its 2")
	require.True(t, s.take(hook("b", "1")))
	require.False(t, s.take(hook("c", "1")), "webhooks are at their 3")
	require.True(t, s.take("email\x00ops@example.com"), "email has its own budget")
	require.False(t, s.take("email\x00bob@example.com"), "one SMTP server, one slot")
	require.True(t, s.take("slack\x00C1"))
	require.True(t, s.take("custom\x00x"))
	require.False(t, s.take("slack\x00C2"), "slack is at its 1")
	s.give(hook("a", "1"))
	s.give(hook("a", "1")) // a second give is harmless
	require.Equal(t, 5, s.running)
	require.True(t, s.take(hook("c", "1")), "a freed webhook slot goes to another host")
}
