package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// num is an id or a count. Yeastar's guides type ids as String and the examples show
// numbers, so it reads a JSON number, a numeric string, a Boolean (flags such as
// isRmUser) or null ("" and null are 0).
type num int64

func (n *num) UnmarshalJSON(b []byte) error {
	v, err := parseNum(b)
	if err != nil {
		return err
	}
	*n = num(v)
	return nil
}

func parseNum(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return 0, nil
	case string(b) == "true":
		return 1, nil
	case string(b) == "false":
		return 0, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, nil
		}
		b = []byte(s)
	}
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return v, nil
	}
	// 1800.0 or 1.8e3: a whole number written as a float.
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
		return int64(f), nil
	}
	return 0, fmt.Errorf("%s is not a number", snippet(b))
}

func nums(ns []num) []int64 {
	if ns == nil {
		return nil
	}
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = int64(n)
	}
	return out
}

// list is a list answer: a plain JSON array, or a page object holding the items under
// results (Partner Portal) or list (YCM), with its counts.
type list[T any] struct {
	Items    []T
	Paged    bool // a page object, not a plain array
	Total    int  // items in all pages; 0 when not said
	Pages    int  // 0 when not said
	PageSize int  // 0 when not said
}

// itemKeys are where page objects keep their items.
var itemKeys = [...]string{"results", "list", "records", "rows", "items", "data"}

func (l *list[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*l = list[T]{}
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '[':
		return json.Unmarshal(b, &l.Items)
	case b[0] != '{':
		return fmt.Errorf("a list is an array or a page object, not %s", snippet(b))
	}
	var pg map[string]json.RawMessage
	if err := json.Unmarshal(b, &pg); err != nil {
		return err
	}
	l.Paged = true
	count := func(keys ...string) int {
		for _, k := range keys {
			if raw, ok := pg[k]; ok {
				if v, err := parseNum(raw); err == nil {
					return int(v)
				}
			}
		}
		return 0
	}
	l.Total = count("total", "totalCount")
	l.Pages = count("totalPage", "totalPages", "pages")
	l.PageSize = count("pageSize", "size")
	for _, k := range itemKeys {
		if raw, ok := pg[k]; ok {
			return json.Unmarshal(raw, &l.Items)
		}
	}
	return nil
}

// pageCount is how many pages the list has, from what its first page said.
func (l *list[T]) pageCount() int {
	switch {
	case !l.Paged:
		return 1
	case l.Pages > 0:
		return l.Pages
	case l.Total <= len(l.Items):
		return 1
	}
	size := l.PageSize
	if size <= 0 {
		size = max(len(l.Items), 1)
	}
	if len(l.Items) > 0 && len(l.Items) < size {
		size = len(l.Items) // the portal sent fewer than it said: it caps the page size
	}
	return ceilDiv(l.Total, size)
}
