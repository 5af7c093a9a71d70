package cycle

import (
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// Cycle's key states. A disabled or expired key is "inactive": it exists
// and can come back (enabled again, its expiry moved), but does not work.
const (
	stateLive     = "live"
	stateInactive = "inactive"
	stateDeleted  = "deleted"
)

// zeroTime is how Cycle shows an event that has not happened.
var zeroTime = time.Time{}

type creator struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// creatorTypes maps keyhub's actors onto Cycle's creator types: a person
// is an account, a machine credential of the hub an api-key, the
// platform's operator an employee of the platform, keyhub itself the
// platform.
var creatorTypes = map[string]string{
	"api_key": "api-key", "client": "api-key", "user": "account", "member": "account",
	"operator": "employee", "system": "platform",
}

func newCreator(a keyhub.Actor) creator {
	t, ok := creatorTypes[a.Type]
	if !ok {
		t = "platform"
	}
	return creator{ID: a.ID, Type: t}
}

type state struct {
	Current string    `json:"current"`
	Changed time.Time `json:"changed"`
}

type events struct {
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Deleted time.Time `json:"deleted"`
}

// keyView is an API key in Cycle's ApiKey shape. Secret is the key itself
// in the answer to a create and its display hint (prefix and first
// characters) everywhere else: Cycle's schema always has a secret, and
// keyhub keeps no secret to show.
type keyView struct {
	ID      string   `json:"id"`
	HubID   string   `json:"hub_id"`
	Name    string   `json:"name"`
	Creator creator  `json:"creator"`
	Secret  string   `json:"secret"`
	RoleID  string   `json:"role_id"`
	IPs     []string `json:"ips"`
	State   state    `json:"state"`
	Events  events   `json:"events"`
}

// cycleState maps a keyhub state onto Cycle's and tells when it last
// changed, as far as the key's timestamps show it.
func cycleState(k *keyhub.APIKey, now time.Time) state {
	switch k.State(now) {
	case keyhub.StateRevoked:
		return state{Current: stateDeleted, Changed: k.RevokedAt.UTC()}
	case keyhub.StateExpired:
		return state{Current: stateInactive, Changed: k.ExpiresAt.UTC()}
	case keyhub.StateDisabled:
		return state{Current: stateInactive, Changed: k.UpdatedAt.UTC()}
	}
	return state{Current: stateLive, Changed: k.CreatedAt.UTC()}
}

// newKeyView renders k; a key without a role (made natively) shows role_id
// "", Cycle's schema having no null for it.
func newKeyView(k *keyhub.APIKey, now time.Time) keyView {
	v := keyView{
		ID: k.ID, HubID: k.TenantID, Name: k.Name, Creator: newCreator(k.Creator), Secret: k.Start,
		RoleID: k.RoleID, IPs: displayIPs(k.IPs), State: cycleState(k, now),
		Events: events{Created: k.CreatedAt.UTC(), Updated: k.UpdatedAt.UTC(), Deleted: zeroTime},
	}
	if k.RevokedAt != nil {
		v.Events.Deleted = k.RevokedAt.UTC()
	}
	return v
}

// displayIPs shows single addresses as Cycle's plain IPs (keyhub keeps
// them as /32 and /128 prefixes); no list is [].
func displayIPs(ips []string) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		switch {
		case strings.HasSuffix(ip, "/32") && !strings.Contains(ip, ":"):
			ip = strings.TrimSuffix(ip, "/32")
		case strings.HasSuffix(ip, "/128"):
			ip = strings.TrimSuffix(ip, "/128")
		}
		out[i] = ip
	}
	return out
}

// roleView is a keyhub role in Cycle's Role shape. Its capabilities are
// what its scopes cover (capabilitiesOf); root and rank follow from them
// too (rankOf), so that they tell what the coverage rule lets the role's
// keys do.
type roleView struct {
	ID           string        `json:"id"`
	Name         *string       `json:"name"`
	Root         bool          `json:"root"`
	Rank         int           `json:"rank"`
	Identifier   string        `json:"identifier"`
	Creator      creator       `json:"creator"`
	Capabilities capabilitySet `json:"capabilities"`
	HubID        string        `json:"hub_id"`
	State        state         `json:"state"`
	Events       events        `json:"events"`
	Meta         *roleMeta     `json:"meta,omitempty"`
}

type capabilitySet struct {
	All      bool     `json:"all"`
	Specific []string `json:"specific"`
}

type roleMeta struct {
	Counts roleCounts `json:"counts"`
}

// roleCounts: keyhub's members hold no roles, so members is always 0.
type roleCounts struct {
	Members int `json:"members"`
	APIKeys int `json:"api_keys"`
}

func newRoleView(r *keyhub.Role) roleView {
	all, specific := capabilitiesOf(r.Scopes)
	name := r.Name
	return roleView{
		ID: r.ID, Name: &name, Root: all, Rank: rankOf(r.Scopes), Identifier: identifierOf(r.Name),
		Creator: newCreator(r.Creator), Capabilities: capabilitySet{All: all, Specific: specific}, HubID: r.TenantID,
		State:  state{Current: stateLive, Changed: r.CreatedAt.UTC()},
		Events: events{Created: r.CreatedAt.UTC(), Updated: r.UpdatedAt.UTC(), Deleted: zeroTime},
	}
}

// identifierOf is a role's identifier: its name in lower case, every run
// of other characters than letters and digits one '-', as Cycle derives
// identifiers from names.
func identifierOf(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}
