package cycle

import (
	"net/http"
	"slices"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
)

// defaultRole is one of the roles GET /v1/hubs/current/roles/defaults
// offers to build from. Each holds every capability of the one before it,
// so that their ranks are a ladder the coverage rule climbs: a role covers
// the defaults below its own rank.
type defaultRole struct {
	name, identifier string
	rank             int
	// adds are the capabilities it holds beyond the default below it.
	adds []string
}

var defaultRoles = []defaultRole{
	{"Analyst", "analyst", 1, []string{"containers-view", "environments-view", "images-view", "stacks-view",
		"dns-view", "monitor-view", "pipelines-view", "hubs-usage-view"}},
	{"Consultant", "consultant", 2, []string{"servers-view", "clusters-view", "sdn-networks-view", "security-view",
		"san-view", "autoscale-groups-view", "virtual-machines-view", "hubs-members-view", "hubs-roles-view",
		"environments-scopedvariables-view", "containers-backups-view", "containers-volumes-view",
		"images-sources-view", "dns-certs-view", "external-volumes-view", "apionly-jobs-view"}},
	{"Developer", "developer", 4, []string{"containers-deploy", "containers-manage", "containers-console",
		"containers-functions-trigger", "containers-volumes-manage", "containers-backups-manage", "images-manage",
		"images-sources-manage", "stacks-manage", "stacks-builds-manage", "stacks-builds-deploy", "pipelines-trigger",
		"environments-manage", "environments-deployments-manage", "environments-scopedvariables-manage",
		"environments-services-manage", "environments-vpn", "apionly-notifications-listen"}},
	{"DevOps Engineer", "devops-engineer", 5, []string{"containers-ssh", "containers-lock",
		"containers-instances-migrate", "servers-manage", "servers-console", "servers-login", "servers-provision",
		"clusters-manage", "dns-manage", "pipelines-manage", "sdn-networks-manage", "autoscale-groups-manage",
		"monitor-manage", "ips-manage", "san-manage", "environments-vpn-manage", "virtual-machines-manage",
		"virtual-machines-deploy", "virtual-machines-console", "virtual-machines-lock",
		"virtual-machines-ssh-keys-manage", "external-volumes-manage", "security-manage"}},
	{"Admin", "admin", 7, []string{"api-keys-manage", "hubs-members-manage", "hubs-invites-manage",
		"hubs-invites-send", "hubs-integrations-manage", "hubs-integrations-view", "hubs-auditlog-view", "hubs-update",
		"billing-credits-view", "billing-invoices-view", "billing-invoices-pay", "billing-methods-manage",
		"billing-services-view", "billing-services-manage", "servers-decommission", "virtual-machines-root-pw-view",
		"virtual-machines-root-pw-view-temp"}},
	// The owner has every capability, managing roles and deleting the hub
	// among them: "*".
	{"Owner", "owner", 10, nil},
}

// defaultCapabilities are the capabilities of the i-th default role, in
// the order roles show them (capabilities').
func defaultCapabilities(i int) []string {
	var held []string
	for _, d := range defaultRoles[:i+1] {
		held = append(held, d.adds...)
	}
	out := []string{}
	for _, c := range capabilities {
		if slices.Contains(held, c) {
			out = append(out, c)
		}
	}
	return out
}

// rankOf is the rank of a role with these scopes: that of the highest
// default role whose scopes they cover (10 for "*", 0 below the analyst).
// keyhub keeps no rank of its own: what a credential may edit is decided
// by the coverage rule — it edits a role only if its scopes cover the
// role's — and a role covers every default its rank names, so a key of a
// role never edits a role ranked above its own.
func rankOf(scopes []string) int {
	if slices.Contains(scopes, allScope) {
		return 10
	}
	rank := 0
	for i, d := range defaultRoles[:len(defaultRoles)-1] {
		want, _ := scopesOf(false, defaultCapabilities(i))
		if _, missing := keyhub.FirstUncovered(scopes, want); !missing {
			rank = d.rank
		}
	}
	return rank
}

// defaultRoleView is Cycle's DefaultRole.
type defaultRoleView struct {
	Name         string        `json:"name"`
	Identifier   string        `json:"identifier"`
	Root         bool          `json:"root"`
	Capabilities capabilitySet `json:"capabilities"`
}

// defaults answers the default roles, without authentication as Cycle's
// description has it: they are the same for every hub and hold nothing
// secret. meta says how they rank and which keyhub scopes the capabilities
// that manage keyhub stand for.
func (h *handler) defaults(w http.ResponseWriter, r *http.Request) {
	data := make([]defaultRoleView, len(defaultRoles))
	ranks := map[string]int{}
	for i, d := range defaultRoles {
		v := defaultRoleView{Name: d.name, Identifier: d.identifier,
			Capabilities: capabilitySet{Specific: defaultCapabilities(i)}}
		if d.adds == nil {
			v.Root, v.Capabilities = true, capabilitySet{All: true, Specific: slices.Clone(capabilities)}
		}
		data[i] = v
		ranks[d.identifier] = d.rank
	}
	scopes := map[string][]string{}
	for _, row := range capabilityScopes {
		scopes[row.capability] = row.scopes
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": data,
		"meta": map[string]any{"ranks": ranks, "capability_scopes": scopes}})
}
