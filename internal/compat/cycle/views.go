package cycle

import (
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// Cycle's key states.
const (
	stateLive    = "live"
	stateDeleted = "deleted"
)

// zeroTime is how Cycle shows an event that has not happened.
var zeroTime = time.Time{}

type creator struct {
	ID   string `json:"id"`
	Type string `json:"type"`
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

// keyView is an API key as Cycle shows it; Secret only on create.
type keyView struct {
	ID      string   `json:"id"`
	HubID   string   `json:"hub_id"`
	Name    string   `json:"name"`
	Creator creator  `json:"creator"`
	RoleID  *string  `json:"role_id"`
	IPs     []string `json:"ips"`
	Secret  string   `json:"secret,omitempty"`
	State   state    `json:"state"`
	Events  events   `json:"events"`
	// KeyhubState is the key's keyhub state, which Cycle's two states
	// cannot tell apart (a disabled or expired key is "live" there).
	KeyhubState keyhub.KeyState `json:"keyhub_state"`
}

// cycleState maps a keyhub state onto Cycle's and tells when it last
// changed, as far as the key's timestamps show it.
func cycleState(k *keyhub.APIKey, now time.Time) (keyhub.KeyState, state) {
	ks := k.State(now)
	switch ks {
	case keyhub.StateRevoked:
		return ks, state{Current: stateDeleted, Changed: *k.RevokedAt}
	case keyhub.StateExpired:
		return ks, state{Current: stateLive, Changed: *k.ExpiresAt}
	case keyhub.StateDisabled:
		return ks, state{Current: stateLive, Changed: k.UpdatedAt}
	}
	return ks, state{Current: stateLive, Changed: k.CreatedAt}
}

func newKeyView(k *keyhub.APIKey, now time.Time) keyView {
	ks, st := cycleState(k, now)
	v := keyView{
		ID: k.ID, HubID: k.TenantID, Name: k.Name,
		Creator:     creator{ID: k.Creator.ID, Type: strings.ReplaceAll(k.Creator.Type, "_", "-")},
		IPs:         displayIPs(k.IPs),
		State:       st,
		Events:      events{Created: k.CreatedAt.UTC(), Updated: k.UpdatedAt.UTC(), Deleted: zeroTime},
		KeyhubState: ks,
	}
	if k.RoleID != "" {
		id := k.RoleID
		v.RoleID = &id
	}
	if k.RevokedAt != nil {
		v.Events.Deleted = k.RevokedAt.UTC()
	}
	v.State.Changed = v.State.Changed.UTC()
	return v
}

// displayIPs shows single addresses as Cycle's plain IPs (keyhub keeps
// them as /32 and /128 prefixes); no list is null, as Cycle allows.
func displayIPs(ips []string) []string {
	if len(ips) == 0 {
		return nil
	}
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

// roleView is a keyhub role in Cycle's Role shape: its scopes are its
// specific capabilities, and "*" is all of them.
type roleView struct {
	ID           string       `json:"id"`
	HubID        string       `json:"hub_id"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	Root         bool         `json:"root"`
	Capabilities capabilities `json:"capabilities"`
	State        state        `json:"state"`
	Events       events       `json:"events"`
}

type capabilities struct {
	All      bool     `json:"all"`
	Specific []string `json:"specific"`
}

func newRoleView(r *keyhub.Role) roleView {
	v := roleView{
		ID: r.ID, HubID: r.TenantID, Name: r.Name, Description: r.Description,
		Capabilities: capabilities{Specific: []string{}},
		State:        state{Current: stateLive, Changed: r.CreatedAt.UTC()},
		Events:       events{Created: r.CreatedAt.UTC(), Updated: r.UpdatedAt.UTC(), Deleted: zeroTime},
	}
	for _, s := range r.Scopes {
		if s == "*" {
			v.Capabilities.All = true
		}
		v.Capabilities.Specific = append(v.Capabilities.Specific, s)
	}
	return v
}
