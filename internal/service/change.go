package service

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/keyhub/keyhub"
)

// change is one write to one object, as the service records it: every
// change of every object goes through record, which applies the coverage
// rule and writes the audit event in the change's transaction. A method
// cannot change an object without an audit event, so it cannot change one
// without the rule either.
type change struct {
	action string // "api_key.updated"
	// before is nil for a creation, after for a removal. Both are pointers
	// to the domain objects (*keyhub.APIKey, *keyhub.Role, …).
	before, after any
	// diff overrides the recorded difference when before/after alone would
	// not say what happened (a rotation names the new key).
	diff json.RawMessage
}

// record applies the coverage rule to ch and appends its audit event,
// inside tx. Tenants, the catalogue and signing keys hold no powers of
// their own: manage:tenants, which only operators hold, guards them.
func (s *Service) record(ctx context.Context, tx keyhub.Tx, c *keyhub.Caller, tenantID string, ch change, now time.Time) error {
	if !onlyReduces(ch.before, ch.after) {
		before, err := powers(ctx, tx, ch.before)
		if err != nil {
			return err
		}
		after, err := powers(ctx, tx, ch.after)
		if err != nil {
			return err
		}
		if sc, ok := c.Principal.Covers(before, after); !ok {
			return keyhub.ErrNotCovered(sc, describe(ch))
		}
	}
	d := ch.diff
	if d == nil {
		d = diff(ch.before, ch.after)
	}
	typ, id := target(ch)
	if err := s.audit(ctx, tx, c, tenantID, ch.action, typ, id, d, now); err != nil {
		return err
	}
	return s.emit(ctx, tx, tenantID, ch.action, objectOf(ch), now)
}

// objectOf is what a change's event shows: the object after it, or before
// it for a removal.
func objectOf(ch change) any {
	if isNil(ch.after) {
		return ch.before
	}
	return ch.after
}

// powers are the effective scopes an object holds: a key's own and its
// role's, a role's, a client's, a member's or a hand-off link's. Objects
// without powers answer nil.
func powers(ctx context.Context, tx keyhub.Tx, obj any) ([]string, error) {
	switch o := obj.(type) {
	case *keyhub.APIKey:
		if o == nil {
			return nil, nil
		}
		if o.RoleID == "" {
			return o.Scopes, nil
		}
		r, err := tx.GetRole(ctx, o.TenantID, o.RoleID)
		if err != nil {
			return nil, err
		}
		return append(append([]string(nil), o.Scopes...), r.Scopes...), nil
	case *keyhub.Role:
		if o == nil {
			return nil, nil
		}
		return o.Scopes, nil
	case *keyhub.Client:
		if o == nil {
			return nil, nil
		}
		return o.Scopes, nil
	case *keyhub.Webhook:
		if o == nil {
			return nil, nil
		}
		return webhookPowers(o), nil
	case *keyhub.Member:
		if o == nil {
			return nil, nil
		}
		return o.Scopes, nil
	case *keyhub.PortalToken:
		// A hand-off link opens a session holding these scopes.
		if o == nil {
			return nil, nil
		}
		return o.Scopes, nil
	}
	return nil, nil
}

// onlyReduces reports whether a change only takes power away: revoking or
// disabling a key, disabling a client, removing a client or a member. Such changes need
// only the operation's own scope, whatever the object holds. Anything else
// about the object changing — its name included — makes it a change the
// coverage rule governs. Removing a role is not one: its keys would keep
// holding its scopes until the store refuses, so the rule still applies.
func onlyReduces(before, after any) bool {
	switch b := before.(type) {
	case *keyhub.APIKey:
		a, ok := after.(*keyhub.APIKey)
		if !ok || a == nil || b == nil {
			return false
		}
		x, y := *a, *b
		x.Normalize()
		y.Normalize()
		// What a revocation or disabling may change; nothing else.
		x.Enabled = x.Enabled || b.Enabled
		if b.RevokedAt == nil {
			x.RevokedAt = nil
		}
		x.UpdatedAt = b.UpdatedAt
		return reflect.DeepEqual(x, y) && (a.Enabled != b.Enabled || a.RevokedAt != nil && b.RevokedAt == nil)
	case *keyhub.Client:
		if b == nil {
			return false
		}
		if isNil(after) {
			return true // deleted
		}
		a, ok := after.(*keyhub.Client)
		if !ok {
			return false
		}
		x, y := *a, *b
		x.Normalize()
		y.Normalize()
		x.Enabled = x.Enabled || b.Enabled
		x.UpdatedAt = b.UpdatedAt
		return reflect.DeepEqual(x, y) && a.Enabled != b.Enabled
	case *keyhub.Webhook:
		if b == nil {
			return false
		}
		if isNil(after) {
			return true // deleted
		}
		a, ok := after.(*keyhub.Webhook)
		if !ok {
			return false
		}
		x, y := *a, *b
		x.Normalize()
		y.Normalize()
		x.Enabled = x.Enabled || b.Enabled
		x.UpdatedAt = b.UpdatedAt
		return reflect.DeepEqual(x, y) && a.Enabled != b.Enabled
	case *keyhub.Member:
		// Removing a member ends what they could do; any change to one
		// that stays is held to the rule.
		return b != nil && isNil(after)
	}
	return false
}

// target names the object of a change for the audit trail.
func target(ch change) (string, string) {
	obj := ch.after
	if isNil(obj) {
		obj = ch.before
	}
	switch o := obj.(type) {
	case *keyhub.APIKey:
		return "api_key", o.ID
	case *keyhub.Role:
		return "role", o.ID
	case *keyhub.Client:
		return "client", o.ID
	case *keyhub.Tenant:
		return "tenant", o.ID
	case *keyhub.ScopeEntry:
		return "scope", o.Name
	case *keyhub.Webhook:
		return "webhook", o.ID
	case *keyhub.Member:
		return "member", o.ID
	case *keyhub.PortalToken:
		// A hand-off is about the member it signs in.
		return "member", o.MemberID
	}
	return "", ""
}

// describe names the object of a refused change.
func describe(ch change) string {
	typ, id := target(ch)
	switch typ {
	case "api_key":
		typ = "api key"
	case "client":
		typ = "OAuth client"
	}
	if id == "" {
		return "the " + typ
	}
	return typ + " " + id
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// audit appends an event for a change made by c, inside tx.
func (s *Service) audit(ctx context.Context, tx keyhub.Tx, c *keyhub.Caller, tenantID, action, targetType, targetID string, diff json.RawMessage, now time.Time) error {
	e := &keyhub.AuditEvent{
		ID:         keyhub.NewID(keyhub.PrefixEvent, now),
		TenantID:   tenantID,
		Actor:      c.Principal.Actor,
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		IP:         c.IPText(),
		Diff:       diff,
		CreatedAt:  now,
	}
	return tx.AppendAuditEvent(ctx, e)
}

// diff renders the fields that differ between before and after as
// {"field":{"from":…,"to":…}}; a creation shows every field as "to".
// Timestamps of the change itself are left out. Objects never carry
// secrets: digests are not marshalled.
//
// Fields are compared and written as the objects marshal them: a field
// whose JSON is the same on both sides is unchanged, and only one whose
// JSON differs is decoded, so that text meaning the same (a meta object's
// keys in another order) is not reported as a change. A creation decodes
// nothing; decoding every field into interfaces and marshalling them again
// was a fifth of a key create's CPU (issue 14), and rounded integers above
// 2^53 through float64.
func diff(before, after any) json.RawMessage {
	b, a := fields(before), fields(after)
	for k := range b {
		if _, ok := a[k]; !ok {
			a[k] = jsonNull // deleted: every field goes to null
		}
	}
	out := make(map[string]fromTo, len(a))
	for k, av := range a {
		if k == "updated_at" || k == "created_at" {
			continue
		}
		bv, ok := b[k]
		if ok && sameJSON(av, bv) {
			continue
		}
		out[k] = fromTo{From: bv, To: av}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return raw
}

// fromTo is one field of a diff; a nil side is null.
type fromTo struct {
	From json.RawMessage `json:"from"`
	To   json.RawMessage `json:"to"`
}

var jsonNull = json.RawMessage(`null`)

// sameJSON reports whether two JSON values are equal: byte for byte, or
// once decoded.
func sameJSON(x, y json.RawMessage) bool {
	if bytes.Equal(x, y) {
		return true
	}
	var dx, dy any
	if json.Unmarshal(x, &dx) != nil || json.Unmarshal(y, &dy) != nil {
		return false
	}
	return reflect.DeepEqual(dx, dy)
}

// fields are an object's top-level JSON fields as it marshals them.
func fields(v any) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if isNil(v) {
		return m
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return m
	}
	_ = json.Unmarshal(raw, &m)
	return m
}
