package sim

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRawQuery: rawQuery.Get agrees with url.Values.Get on well-formed queries.
func FuzzRawQuery(f *testing.F) {
	for _, q := range []string{"", "pageNo=2&pageSize=25", "search=a%20b&search=c", "x+y=1%2B1&pageNo=", "a&b=&=c", "ownerId=%zz"} {
		f.Add(q, "pageNo")
	}
	f.Fuzz(func(t *testing.T, q, key string) {
		vals, err := url.ParseQuery(q)
		if err != nil || strings.Contains(q, ";") {
			return // url.ParseQuery drops the bad pairs; rawQuery need not match it there
		}
		if got, want := rawQuery(q).Get(key), vals.Get(key); got != want {
			t.Errorf("rawQuery(%q).Get(%q) = %q, url.Values says %q", q, key, got, want)
		}
	})
}
