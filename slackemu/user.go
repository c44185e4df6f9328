package slackemu

import (
	"slices"
	"strings"
)

// User is a member of the emulated workspace.
type User struct {
	ID       string   // "U…"; generated when empty
	Name     string   // handle ("alice"); defaults to the email's local part
	RealName string   // defaults to Name
	Email    string   // shown by users.info with users:read.email, found by users.lookupByEmail
	Groups   []string // user-group handles ("ops"); groups are created as needed
	IsAdmin  bool
	IsBot    bool
	Deleted  bool
	TZ       string // IANA zone, default "Europe/Amsterdam"
}

// UserGroup is a Slack user group (a "subteam", S…), mentionable as @handle.
type UserGroup struct {
	ID          string // "S…"; generated when empty
	Handle      string // "ops"
	Name        string // defaults to Handle
	Description string
	Users       []string // member user ids
}

// AddUser adds a human (or updates one with the same id) and returns it
// with defaults filled in. Its Groups are created or joined.
func (e *Emulator) AddUser(u User) User {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u.ID == "" {
		u.ID = e.nextID("U")
	}
	if u.Name == "" {
		u.Name, _, _ = strings.Cut(u.Email, "@")
	}
	if u.Name == "" {
		u.Name = strings.ToLower(u.ID)
	}
	if u.RealName == "" {
		u.RealName = u.Name
	}
	if u.TZ == "" {
		u.TZ = "Europe/Amsterdam"
	}
	u.Groups = slices.Clone(u.Groups)
	if _, ok := e.users[u.ID]; !ok {
		e.userOrder = append(e.userOrder, u.ID)
	}
	cp := u
	e.users[u.ID] = &cp
	for _, h := range u.Groups {
		g := e.groupLocked(UserGroup{Handle: h})
		if !slices.Contains(g.Users, u.ID) {
			g.Users = append(g.Users, u.ID)
		}
	}
	e.notifyLocked()
	return u
}

// AddUserGroup creates a user group (or adds members to the one with the
// same handle) and returns it.
func (e *Emulator) AddUserGroup(g UserGroup) UserGroup {
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.groupLocked(g)
	for _, u := range g.Users {
		if !slices.Contains(cur.Users, u) {
			cur.Users = append(cur.Users, u)
		}
	}
	out := *cur
	out.Users = slices.Clone(cur.Users)
	return out
}

// groupLocked returns the group with g's handle, creating it.
func (e *Emulator) groupLocked(g UserGroup) *UserGroup {
	for _, id := range e.groupOrder {
		if e.groups[id].Handle == g.Handle {
			return e.groups[id]
		}
	}
	if g.ID == "" {
		g.ID = e.nextID("S")
	}
	if g.Name == "" {
		g.Name = g.Handle
	}
	g.Users = nil
	cp := g
	e.groups[g.ID] = &cp
	e.groupOrder = append(e.groupOrder, g.ID)
	return &cp
}

// User returns one user by id.
func (e *Emulator) User(id string) (User, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// userByNameLocked finds a user by handle, for "@name" in typed text.
func (e *Emulator) userByNameLocked(name string) *User {
	for _, id := range e.userOrder {
		if u := e.users[id]; u.Name == name {
			return u
		}
	}
	return nil
}

// userJSON renders a user object as users.info does; the email only shows
// with the users:read.email scope.
func (e *Emulator) userJSON(u *User) obj {
	profile := obj{
		"title": "", "phone": "", "skype": "", "real_name": u.RealName,
		"real_name_normalized": u.RealName, "display_name": u.Name,
		"display_name_normalized": u.Name, "fields": nil, "status_text": "",
		"status_emoji": "", "status_expiration": 0, "avatar_hash": "g0000000000",
		"first_name": u.RealName, "last_name": "", "team": e.cfg.TeamID,
		"image_24": e.base + "/img/u24.png", "image_48": e.base + "/img/u48.png",
		"image_72": e.base + "/img/u72.png",
	}
	if u.Email != "" && e.scopes["users:read.email"] {
		profile["email"] = u.Email
	}
	o := obj{
		"id": u.ID, "team_id": e.cfg.TeamID, "name": u.Name, "deleted": u.Deleted,
		"color": "9f69e7", "real_name": u.RealName, "tz": u.TZ, "tz_label": "Central European Time",
		"tz_offset": 3600, "profile": profile, "is_admin": u.IsAdmin, "is_owner": false,
		"is_primary_owner": false, "is_restricted": false, "is_ultra_restricted": false,
		"is_bot": u.IsBot, "is_app_user": false, "updated": 1742000000, "is_email_confirmed": u.Email != "",
		"who_can_share_contact_card": "EVERYONE",
	}
	if u.IsBot && u.ID == e.cfg.BotUserID {
		profile["bot_id"], profile["api_app_id"], profile["always_active"] = e.cfg.BotID, e.cfg.AppID, true
	}
	return o
}

// usersInfo answers users.info.
func (e *Emulator) usersInfo(a *args) (obj, error) {
	u, ok := e.users[a.str("user")]
	if !ok {
		return nil, slackErr("user_not_found")
	}
	return obj{"user": e.userJSON(u)}, nil
}

// usersLookupByEmail answers users.lookupByEmail.
func (e *Emulator) usersLookupByEmail(a *args) (obj, error) {
	email := strings.ToLower(a.str("email"))
	for _, id := range e.userOrder {
		if u := e.users[id]; email != "" && strings.ToLower(u.Email) == email && !u.Deleted {
			return obj{"user": e.userJSON(u)}, nil
		}
	}
	return nil, slackErr("users_not_found")
}

// usergroupsList answers usergroups.list.
func (e *Emulator) usergroupsList(a *args) (obj, error) {
	out := []obj{}
	for _, id := range e.groupOrder {
		g := e.groups[id]
		o := obj{"id": g.ID, "team_id": e.cfg.TeamID, "is_usergroup": true, "is_subteam": true,
			"name": g.Name, "description": g.Description, "handle": g.Handle, "is_external": false,
			"date_create": 1742000000, "date_update": 1742000000, "date_delete": 0,
			"auto_type": nil, "created_by": e.cfg.BotUserID, "updated_by": e.cfg.BotUserID,
			"deleted_by": nil, "prefs": obj{"channels": []string{}, "groups": []string{}},
			"user_count": len(g.Users)}
		if a.boolean("include_users") {
			o["users"] = slices.Clone(g.Users)
		}
		out = append(out, o)
	}
	return obj{"usergroups": out}, nil
}

// usergroupsUsersList answers usergroups.users.list.
func (e *Emulator) usergroupsUsersList(a *args) (obj, error) {
	g, ok := e.groups[a.str("usergroup")]
	if !ok {
		return nil, slackErr("no_such_subteam")
	}
	return obj{"users": append([]string{}, g.Users...)}, nil
}
