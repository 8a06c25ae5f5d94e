package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

func TestRequireApproval(t *testing.T) {
	five := 5
	for _, tc := range []struct {
		yaml string
		want *reconcile.Approval
		err  string
	}{
		{"max_delete: 3\n", nil, ""},
		{"require_approval: never\n", &reconcile.Approval{}, ""},
		{"require_approval: always\n", &reconcile.Approval{Always: true}, ""},
		{"require_approval: deletes\n", &reconcile.Approval{Deletes: true}, ""},
		{"require_approval: [deletes, reinvites, shrinks]\n", &reconcile.Approval{Deletes: true, Reinvites: true, Shrinks: true}, ""},
		{"require_approval:\n  - deletes\n  - more_than: 5\n", &reconcile.Approval{Deletes: true, MoreThan: &five}, ""},
		{"require_approval: sometimes\n", nil, `line 1: require_approval: "sometimes"`},
		{"require_approval:\n  - more_than: many\n", nil, "more_than: give a whole number"},
		{"require_approval:\n  - more_than: -1\n", nil, "more_than: give a whole number"},
	} {
		c, err := Parse([]byte(tc.yaml))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if diff := cmp.Diff(tc.want, c.RequireApproval); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.yaml, diff)
		}
	}
}
