package reconcile

import (
	"slices"
	"strings"
	"unicode"

	"github.com/ycm-onboard/ycm-onboard/importer"
)

// keyed is an e-mail's hash and the index of the row or colleague it came from.
type keyed struct {
	h uint64
	i int32
}

// radixSort sorts by h, stably (equal hashes keep their order), in linear time: a
// million keys sort in a few passes over memory instead of a million cache misses.
func radixSort(ks []keyed) {
	if len(ks) < 2 {
		return
	}
	tmp := make([]keyed, len(ks))
	src, dst := ks, tmp
	for shift := uint(0); shift < 64; shift += 8 {
		var count [257]int
		for _, k := range src {
			count[int(byte(k.h>>shift))+1]++
		}
		if count[int(byte(src[0].h>>shift))+1] == len(src) {
			continue // every key has the same digit here
		}
		for b := 1; b < 257; b++ {
			count[b] += count[b-1]
		}
		for _, k := range src {
			d := byte(k.h >> shift)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &ks[0] {
		copy(ks, src)
	}
}

// join matches the input's colleagues to the portal's by e-mail hash: match[j] is the
// portal index for d.Colleagues[j], or -1, still to be confirmed by comparing the
// e-mails (see colleagueMatch). matched marks every portal colleague whose hash some
// row has, rejected rows included (by their e-mail as written and as salvageEmails
// cleans it up), so that none of them is pruned: a hash collision can only keep a
// colleague, never delete one. A sort-merge join on hashes reads
// memory in order where a hash map would miss the cache on every lookup.
func (ix *index) join(d *importer.Desired) (match []int32, matched []bool) {
	portalKeys := make([]keyed, len(ix.all))
	for i := range ix.all {
		portalKeys[i] = keyed{emailKey(ix.all[i].Email), int32(i)}
	}
	radixSort(portalKeys)
	nd := len(d.Colleagues)
	rowKeys := make([]keyed, 0, nd+len(d.RejectedColleagues))
	for j, c := range d.Colleagues {
		rowKeys = append(rowKeys, keyed{emailKey(c.Email()), int32(j)})
	}
	for j, c := range d.RejectedColleagues {
		rowKeys = append(rowKeys, keyed{emailKey(c.Email()), int32(nd + j)})
		for _, e := range salvageEmails(c.Email()) {
			rowKeys = append(rowKeys, keyed{emailKey(e), int32(nd + j)})
		}
	}
	radixSort(rowKeys)

	match = make([]int32, nd)
	matched = make([]bool, len(ix.all))
	p := 0
	for _, rk := range rowKeys {
		for p < len(portalKeys) && portalKeys[p].h < rk.h {
			p++
		}
		found := int32(-1)
		// Equal hashes keep the portal's order: the first is the candidate.
		for q := p; q < len(portalKeys) && portalKeys[q].h == rk.h; q++ {
			if found < 0 {
				found = portalKeys[q].i
			}
			matched[portalKeys[q].i] = true
		}
		if int(rk.i) < nd {
			match[rk.i] = found
		}
	}
	return match, matched
}

// colleagueMatch confirms join's candidate for a row by its e-mail, and on the rare
// hash collision finds the right one (the first with that e-mail), or -1.
func (ix *index) colleagueMatch(email string, candidate int32) int {
	if candidate >= 0 && strings.EqualFold(ix.all[candidate].Email, email) {
		return int(candidate)
	}
	if candidate < 0 {
		return -1
	}
	for i := range ix.all {
		if strings.EqualFold(ix.all[i].Email, email) {
			return i
		}
	}
	return -1
}

// salvageEmails reads the addresses a rejected row most likely means, the way the
// importer's suggestion reads it (importer.CleanEmail), so that a typo such as
// "Ann <ann@x.example>", "ann..b@x.example" or "ann@x.example." still keeps that
// colleague from being pruned. Lower case; none when the row names no address at all.
func salvageEmails(s string) []string {
	var out []string
	add := func(e string) {
		e = strings.ToLower(importer.CleanEmail(e))
		if local, domain, ok := strings.Cut(e, "@"); ok && local != "" && domain != "" && !strings.Contains(domain, "@") && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	add(s)
	// Each word with an @ in it, stripped of the quotes and brackets around it:
	// '"Fiona" fi@x.example', '(fi@x.example)', 'a@x.example; b@x.example'.
	for word := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		if strings.Contains(word, "@") {
			add(strings.Trim(word, "'\"`()[]<>{}:"))
		}
	}
	return out
}
