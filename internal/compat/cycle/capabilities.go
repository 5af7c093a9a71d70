package cycle

import (
	"slices"

	"github.com/keyhub/keyhub"
)

// capabilityScopes is the one table of Cycle capabilities that stand for
// keyhub's management scopes: a role holding the capability holds these
// scopes, so its keys manage what the capability says, on every surface.
// Every other Cycle capability is the keyhub scope of its own name
// ("containers-deploy"), which the platform checks with verify like any
// scope. README's "Cycle capabilities" table is this table.
var capabilityScopes = []struct {
	capability string
	scopes     []string
}{
	{"api-keys-manage", []string{keyhub.ScopeReadAPIKeys, keyhub.ScopeCreateAPIKeys, keyhub.ScopeUpdateAPIKeys, keyhub.ScopeDeleteAPIKeys}},
	{"hubs-roles-view", []string{keyhub.ScopeReadRoles}},
	{"hubs-roles-manage", []string{keyhub.ScopeReadRoles, keyhub.ScopeManageRoles}},
	{"hubs-auditlog-view", []string{keyhub.ScopeReadAudit}},
}

// allScope is what a role with every capability holds.
const allScope = "*"

// scopesOfCapability are the keyhub scopes one capability stands for.
func scopesOfCapability(c string) []string {
	for _, row := range capabilityScopes {
		if row.capability == c {
			return row.scopes
		}
	}
	return []string{c}
}

// isCapability reports whether c is one of Cycle's capabilities.
func isCapability(c string) bool { return slices.Contains(capabilities, c) }

// scopesOf are the scopes a role with these capabilities holds, and for
// each the index of the capability it comes from, so that an error about
// a scope can name the capability. all is every capability: "*".
func scopesOf(all bool, specific []string) (scopes []string, from []int) {
	if all {
		return []string{allScope}, []int{-1}
	}
	for i, c := range specific {
		for _, s := range scopesOfCapability(c) {
			scopes = append(scopes, s)
			from = append(from, i)
		}
	}
	return scopes, from
}

// capabilitiesOf are the capabilities a role with these scopes has: all
// when it holds "*", and each capability whose scopes its own cover.
func capabilitiesOf(scopes []string) (all bool, specific []string) {
	specific = []string{}
	for _, c := range capabilities {
		if _, missing := keyhub.FirstUncovered(scopes, scopesOfCapability(c)); !missing {
			specific = append(specific, c)
		}
	}
	return slices.Contains(scopes, allScope), specific
}

// isCycleScope reports whether a scope is one a capability stands for (or
// "*", every capability): what a Cycle edit of capabilities may replace.
// A role's other scopes, given natively, are kept by such an edit.
func isCycleScope(s string) bool {
	if s == allScope || isCapability(s) {
		return true
	}
	for _, row := range capabilityScopes {
		if slices.Contains(row.scopes, s) {
			return true
		}
	}
	return false
}

// capabilityFor is the capability that grants scope, for the extra of a
// 403: the narrowest row of the table holding it, or the capability of
// that name; "" when no capability grants it.
func capabilityFor(scope string) string {
	for _, row := range capabilityScopes {
		if slices.Contains(row.scopes, scope) {
			return row.capability
		}
	}
	if isCapability(scope) {
		return scope
	}
	return ""
}

// capabilities are Cycle's capabilities, in the order of its OpenAPI
// description's Capability enum (spec_test.go holds the two together).
var capabilities = []string{
	"external-volumes-view", "external-volumes-manage", "api-keys-manage", "apionly-jobs-view",
	"apionly-notifications-listen", "autoscale-groups-manage", "autoscale-groups-view", "billing-credits-view",
	"billing-invoices-pay", "billing-invoices-view", "billing-methods-manage", "billing-services-manage",
	"billing-services-view", "containers-backups-manage", "containers-backups-view", "containers-console",
	"containers-deploy", "containers-instances-migrate", "containers-lock", "containers-ssh", "containers-manage",
	"containers-view", "containers-functions-trigger", "containers-volumes-manage", "containers-volumes-view",
	"dns-certs-view", "dns-manage", "dns-view", "environments-deployments-manage", "environments-manage",
	"environments-scopedvariables-manage", "environments-scopedvariables-view", "environments-services-manage",
	"environments-view", "environments-vpn", "environments-vpn-manage", "hubs-delete", "hubs-integrations-manage",
	"hubs-integrations-view", "hubs-invites-manage", "hubs-invites-send", "hubs-members-manage", "hubs-members-view",
	"hubs-roles-manage", "hubs-roles-view", "hubs-usage-view", "hubs-update", "hubs-auditlog-view", "images-manage",
	"images-sources-manage", "images-sources-view", "images-view", "ips-manage", "servers-console",
	"servers-decommission", "servers-login", "clusters-manage", "clusters-view", "servers-provision",
	"servers-manage", "servers-view", "san-manage", "san-view", "monitor-manage", "monitor-view",
	"pipelines-manage", "pipelines-trigger", "pipelines-view", "sdn-networks-manage", "sdn-networks-view",
	"security-manage", "security-view", "stacks-builds-deploy", "stacks-builds-manage", "stacks-manage",
	"stacks-view", "virtual-machines-view", "virtual-machines-manage", "virtual-machines-deploy",
	"virtual-machines-console", "virtual-machines-lock", "virtual-machines-ssh-keys-manage",
	"virtual-machines-root-pw-view", "virtual-machines-root-pw-view-temp",
}
