package yaxi

import "github.com/keyhub/keyhub"

// showKeyID and showTenantID render keyhub ids as YAXI shows them, in UUID
// form (keyhub.UUIDForm).
func showKeyID(id string) string {
	return keyhub.UUIDForm(keyhub.UUIDPrefixAPIKey, keyhub.PrefixAPIKey, id)
}

func showTenantID(id string) string {
	return keyhub.UUIDForm(keyhub.UUIDPrefixTenant, keyhub.PrefixTenant, id)
}

// readKeyID reads a key id of a path: YAXI's form or keyhub's own.
// Anything else is returned as it is, for the service to answer not found.
func readKeyID(s string) string {
	if id, ok := keyhub.ParseUUIDForm(keyhub.UUIDPrefixAPIKey, keyhub.PrefixAPIKey, s); ok {
		return id
	}
	return s
}
