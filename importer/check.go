package importer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Check checks the desired state against what the portal knows: permission names,
// owners and PBX references. Rows with errors move to the rejected lists.
func Check(d *Desired, cat Catalog) []Problem {
	var ps []Problem

	perms := map[string]string{} // lower case → catalogue spelling
	for _, p := range cat.Permissions {
		perms[strings.ToLower(strings.TrimSpace(p))] = p
	}
	partnerEmails := map[string]bool{}
	partnerIDs := map[string]bool{}
	for _, p := range cat.Partners {
		if p.Email != "" {
			partnerEmails[strings.ToLower(p.Email)] = true
		}
		partnerIDs[strconv.FormatInt(p.ID, 10)] = true
	}

	kept := d.Colleagues[:0:0]
	accepted := len(d.Colleagues)
	// Rows already rejected are checked too, so one upload shows every mistake of a row,
	// not the e-mail's first and the permission's on the next try.
	for i, c := range append(slices.Clone(d.Colleagues), d.RejectedColleagues...) {
		bad := false
		problem := func(field, value, msg, fix string) {
			col := d.column(c.Source(), field)
			ps = append(ps, Problem{Source: c.Source(), Column: col.Letter, Header: col.Header, Value: value, Severity: Error, Message: msg, Fix: fix})
			bad = true
		}
		for _, p := range c.Permissions() {
			if _, ok := perms[strings.ToLower(p)]; ok {
				continue
			}
			msg := fmt.Sprintf("the portal has no permission %q", p)
			fix := "use one of: " + strings.Join(cat.Permissions, ", ")
			if near := nearest(p, cat.Permissions); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
				fix = fmt.Sprintf("write %s", near)
			} else if parts, known := splitOther(p, perms); len(parts) > 1 {
				// "Dashboard/Billing" or "Dashboard | Billing": separated by the wrong sign.
				if known {
					msg += "; it looks like several permissions separated by / or |"
					fix = fmt.Sprintf("separate permissions with ; and write %s", strings.Join(parts, "; "))
				} else {
					fix = "separate several permissions with ; (not / or |), and " + fix
				}
			}
			problem("Permissions", p, msg, fix)
		}
		if o, _ := c.Owner(); o != "" {
			if !partnerEmails[strings.ToLower(o)] && !partnerIDs[strings.TrimSpace(strings.TrimSuffix(o, ".0"))] {
				problem("Owner", o, fmt.Sprintf("the owner %q is neither the e-mail nor the ID of a subordinate partner", o),
					"write the e-mail or ID of one of your subordinate partners, or leave it blank for your own company")
			}
		}
		switch {
		case i >= accepted: // already rejected
		case bad:
			d.RejectedColleagues = append(d.RejectedColleagues, c)
		default:
			kept = append(kept, c)
		}
	}
	d.Colleagues = kept

	bySN := map[string]int{}
	byName := map[string][]int{}
	for i, p := range cat.PBXs {
		if p.SN != "" {
			bySN[strings.ToLower(p.SN)] = i
		}
		if p.Name != "" {
			byName[strings.ToLower(p.Name)] = append(byName[strings.ToLower(p.Name)], i)
		}
	}
	keptI := d.Instances[:0:0]
	for _, in := range d.Instances {
		k := strings.ToLower(in.Ref)
		col := d.column(in.Source, "PBX")
		var msg, fix string
		if _, ok := bySN[k]; !ok {
			switch n := len(byName[k]); {
			case n == 0:
				msg = fmt.Sprintf("no cloud PBX is named %q or has that serial number", in.Ref)
				fix = "write the name or SN as shown in Yeastar Central Management"
				var names []string
				for _, p := range cat.PBXs {
					names = append(names, p.Name, p.SN)
				}
				if near := nearest(in.Ref, names); near != "" {
					msg += fmt.Sprintf("; did you mean %q?", near)
					fix = fmt.Sprintf("write %s", near)
				}
			case n > 1:
				var sns []string
				for _, i := range byName[k] {
					sns = append(sns, cat.PBXs[i].SN)
				}
				msg = fmt.Sprintf("%d cloud PBXs are named %q (SN %s)", n, in.Ref, strings.Join(sns, ", "))
				fix = "write the serial number (SN) of the one to resize instead of its name"
			}
		}
		if msg != "" {
			if in.Derivation != "" && in.Source.Row == 0 {
				msg += " (the PBX given with --pbx for the 3CX export)"
				fix = "pass --pbx with the name or SN of an existing cloud PBX"
			}
			ps = append(ps, Problem{Source: in.Source, Column: col.Letter, Header: col.Header, Value: in.Ref, Severity: Error, Message: msg, Fix: fix})
			d.RejectedInstances = append(d.RejectedInstances, in)
			continue
		}
		keptI = append(keptI, in)
	}
	d.Instances = keptI
	return ps // the caller sorts them with Read's (SortProblems)
}

// splitOther splits a permission name on / and |, which people use to separate
// permissions, and reports whether every part is a permission of the catalogue (by
// lower-case name in perms); the parts are in the catalogue's spelling when known.
func splitOther(p string, perms map[string]string) (parts []string, known bool) {
	known = true
	for _, s := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '|' }) {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if c, ok := perms[strings.ToLower(s)]; ok {
			s = c
		} else {
			known = false
		}
		parts = append(parts, s)
	}
	return parts, known
}

// nearest returns the candidate closest to s when it is a plausible typo, or "".
func nearest(s string, candidates []string) string {
	ns := normHeader(s)
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if c == "" {
			continue
		}
		nc := normHeader(c)
		if nc == ns && ns != "" {
			return c
		}
		d := levenshtein(ns, nc)
		limit := max(1, min(3, len([]rune(nc))/4))
		if d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// levenshtein is the edit distance of a and b, a swap of two neighbouring letters
// counting as one edit ("Emial" is one edit from "Email").
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
