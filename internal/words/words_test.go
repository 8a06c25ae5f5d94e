package words

import "testing"

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		noun string
		want string
	}{{0, "error", "0 errors"}, {1, "error", "1 error"}, {2, "PBX", "2 PBXs"}, {-1, "colleague", "-1 colleagues"}} {
		if got := Count(tt.n, tt.noun); got != tt.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
